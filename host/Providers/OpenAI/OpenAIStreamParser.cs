using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Turns the chunks of one streamed answer into updates, holding what must wait for the end.</summary>
/// <remarks>
/// Text and reasoning go out as soon as they arrive. Tool calls go out whole once the finish chunk (or the end of
/// the stream) says no more fragments will come. Usage is kept until the end and sent once: servers put it in the
/// last chunk, in the finish chunk, in the one before last, or repeat it, and MEAI adds up every UsageContent.
/// </remarks>
internal sealed class OpenAIStreamParser
{
    private readonly OpenAIToolCallAccumulator _toolCalls = new();
    private readonly StringBuilder _text = new();
    private string? _responseId;
    private string? _modelId;
    private DateTimeOffset? _createdAt;
    private UsageDetails? _usage;
    private ChatFinishReason? _finishReason;
    private bool _sawToolCalls;

    /// <summary>Gets the answer text streamed so far, for a truncated stream's <c>PartialText</c>.</summary>
    public string Text => _text.ToString();

    /// <summary>Gets whether a choice reported its <c>finish_reason</c>.</summary>
    public bool Finished { get; private set; }

    /// <summary>Reads one chunk; returns the update to yield now, or <see langword="null"/> when it holds nothing to show yet.</summary>
    public ChatResponseUpdate? Read(JsonElement chunk)
    {
        // Azure opens with a prompt_filter_results chunk whose id and model are empty strings.
        if (string.IsNullOrEmpty(_responseId) && OpenAIResponseParser.GetString(chunk, "id") is { Length: > 0 } id)
        {
            _responseId = id;
        }

        if (OpenAIResponseParser.GetString(chunk, "model") is { Length: > 0 } model)
        {
            _modelId = model;
        }

        _createdAt ??= OpenAIResponseParser.GetCreated(chunk);

        if (OpenAIResponseParser.ParseUsage(chunk) is { } usage)
        {
            _usage = usage;
        }

        var contents = new List<AIContent>();
        ChatFinishReason? finishNow = null;
        if (OpenAIResponseParser.FirstChoice(chunk) is { } choice)
        {
            if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
            {
                ReadDelta(delta, contents);
            }

            if (OpenAIResponseParser.GetString(choice, "finish_reason") is { Length: > 0 } reason)
            {
                Finished = true;
                _finishReason = OpenAIResponseParser.MapFinishReason(reason);
                contents.AddRange(DrainToolCalls());
                finishNow = _sawToolCalls ? ChatFinishReason.ToolCalls : _finishReason;
            }
        }

        if (contents.Count == 0 && finishNow is null)
        {
            return null;
        }

        var update = NewUpdate(contents, chunk.Clone());
        update.FinishReason = finishNow;
        return update;
    }

    /// <summary>Builds the last update, after <c>[DONE]</c> or a stream that ended after its finish chunk.</summary>
    public ChatResponseUpdate? Complete()
    {
        var contents = DrainToolCalls();
        if (_usage is not null)
        {
            contents.Add(new UsageContent(_usage));
        }

        var finish = _sawToolCalls ? ChatFinishReason.ToolCalls : _finishReason;
        if (contents.Count == 0 && finish is null)
        {
            return null;
        }

        var update = NewUpdate(contents, rawRepresentation: null);
        update.FinishReason = finish;
        return update;
    }

    private void ReadDelta(JsonElement delta, List<AIContent> contents)
    {
        if (OpenAIResponseParser.GetReasoning(delta) is { Length: > 0 } reasoningText)
        {
            contents.Add(new TextReasoningContent(reasoningText));
        }

        if (delta.TryGetProperty("content", out var content))
        {
            var text = new StringBuilder();
            var reasoning = new StringBuilder();
            OpenAIResponseParser.ReadContentValue(content, text, reasoning);
            if (reasoning.Length > 0)
            {
                contents.Add(new TextReasoningContent(reasoning.ToString()));
            }

            if (text.Length > 0)
            {
                _text.Append(text);
                contents.Add(new TextContent(text.ToString()));
            }
        }

        if (delta.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String && refusal.GetString() is { Length: > 0 } refusalText)
        {
            _text.Append(refusalText);
            contents.Add(new TextContent(refusalText));
        }

        if (delta.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (var toolCall in toolCalls.EnumerateArray())
            {
                _toolCalls.Add(toolCall);
            }
        }

        if (delta.TryGetProperty("function_call", out var functionCall))
        {
            _toolCalls.AddLegacy(functionCall);
        }
    }

    private List<AIContent> DrainToolCalls()
    {
        if (!_toolCalls.HasCalls)
        {
            return [];
        }

        _sawToolCalls = true;
        return _toolCalls.Drain();
    }

    private ChatResponseUpdate NewUpdate(List<AIContent> contents, object? rawRepresentation) => new(ChatRole.Assistant, contents)
    {
        ResponseId = _responseId,
        MessageId = _responseId,
        ModelId = _modelId,
        CreatedAt = _createdAt,
        RawRepresentation = rawRepresentation,
    };
}
