using System.Text;
using System.Text.Json;
using Ally.Host.Providers.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Turns the Messages API's server-sent events into <see cref="ChatResponseUpdate"/>s, one event at a time.</summary>
/// <remarks>
/// Event order (PROVIDER-QUIRKS.md): <c>message_start</c>, then per block <c>content_block_start</c>, deltas and
/// <c>content_block_stop</c>, then <c>message_delta</c> and <c>message_stop</c>; <c>ping</c> and <c>error</c> can come
/// at any point. Text and thinking are passed on as they arrive; a tool call is emitted once, complete, at its
/// block's stop, since its input only parses once all <c>partial_json</c> fragments are joined.
/// </remarks>
internal sealed class AnthropicStreamParser
{
    private readonly AnthropicStructuredOutput? _structured;
    private readonly DateTimeOffset _createdAt;
    private readonly Dictionary<int, Block> _blocks = [];
    private readonly AnthropicUsage _usage = new();
    private readonly StringBuilder _text = new();
    private string? _responseId;
    private string? _modelId;
    private string? _stopReason;
    private string? _stopSequence;
    private bool _hasToolCalls;

    public AnthropicStreamParser(AnthropicStructuredOutput? structured, DateTimeOffset createdAt)
    {
        _structured = structured;
        _createdAt = createdAt;
    }

    /// <summary>Gets a value indicating whether <c>message_stop</c> arrived, so the answer is whole.</summary>
    public bool Completed { get; private set; }

    /// <summary>Gets a value indicating whether any content reached the caller.</summary>
    public bool HasContent { get; private set; }

    /// <summary>Gets the answer text delivered so far.</summary>
    public string PartialText => _text.ToString();

    /// <summary>Gets the <c>error</c> object of an in-band error event, once one arrived.</summary>
    public JsonElement? Error { get; private set; }

    public IReadOnlyList<ChatResponseUpdate> Process(SseEvent sse)
    {
        if (string.IsNullOrWhiteSpace(sse.Data))
        {
            return [];
        }

        JsonElement data;
        try
        {
            data = JsonElement.Parse(sse.Data);
        }
        catch (JsonException)
        {
            // A stray non-JSON line is not worth failing a healthy stream over; truncation is caught at the end.
            return [];
        }

        var type = AnthropicResponseParser.GetString(data, "type") ?? sse.EventType;
        switch (type)
        {
            case "message_start":
                if (data.TryGetProperty("message", out var message))
                {
                    _responseId = AnthropicResponseParser.GetString(message, "id") ?? _responseId;
                    _modelId = AnthropicResponseParser.GetString(message, "model") ?? _modelId;
                    if (message.TryGetProperty("usage", out var startUsage))
                    {
                        _usage.Update(startUsage);
                    }
                }

                return [];
            case "content_block_start":
                return BlockStart(data);
            case "content_block_delta":
                return BlockDelta(data);
            case "content_block_stop":
                return BlockStop(data);
            case "message_delta":
                if (data.TryGetProperty("delta", out var delta))
                {
                    _stopReason = AnthropicResponseParser.GetString(delta, "stop_reason") ?? _stopReason;
                    _stopSequence = AnthropicResponseParser.GetString(delta, "stop_sequence") ?? _stopSequence;
                }

                if (data.TryGetProperty("usage", out var deltaUsage))
                {
                    // Cumulative counts: AnthropicUsage.Update overwrites.
                    _usage.Update(deltaUsage);
                }

                return [];
            case "message_stop":
                Completed = true;
                return [Final(data)];
            case "error":
                Error = data.TryGetProperty("error", out var error) ? error : data;
                return [];
            default:
                // ping, and event types added after this was written.
                return [];
        }
    }

    private IReadOnlyList<ChatResponseUpdate> BlockStart(JsonElement data)
    {
        if (!data.TryGetProperty("index", out var indexElement) || !indexElement.TryGetInt32(out var index) ||
            !data.TryGetProperty("content_block", out var block))
        {
            return [];
        }

        var kind = AnthropicResponseParser.GetString(block, "type") ?? string.Empty;
        var state = new Block(kind)
        {
            Id = AnthropicResponseParser.GetString(block, "id"),
            Name = AnthropicResponseParser.GetString(block, "name"),
            InitialInput = block.TryGetProperty("input", out var input) ? input.GetRawText() : null,
        };
        _blocks[index] = state;

        switch (kind)
        {
            case "text" when AnthropicResponseParser.GetString(block, "text") is { Length: > 0 } text:
                return [Text(text, block)];
            case "thinking" when AnthropicResponseParser.GetString(block, "thinking") is { Length: > 0 } thinking:
                return [Update(new TextReasoningContent(thinking), block)];
            case "redacted_thinking":
                return [Update(
                    new TextReasoningContent(string.Empty)
                    {
                        ProtectedData = AnthropicResponseParser.GetString(block, "data"),
                        AdditionalProperties = new AdditionalPropertiesDictionary { [AnthropicResponseParser.RedactedThinkingKey] = true },
                    },
                    block)];
            default:
                return [];
        }
    }

    private IReadOnlyList<ChatResponseUpdate> BlockDelta(JsonElement data)
    {
        if (!data.TryGetProperty("index", out var indexElement) || !indexElement.TryGetInt32(out var index) ||
            !data.TryGetProperty("delta", out var delta))
        {
            return [];
        }

        _blocks.TryGetValue(index, out var block);
        switch (AnthropicResponseParser.GetString(delta, "type"))
        {
            case "text_delta" when AnthropicResponseParser.GetString(delta, "text") is { Length: > 0 } text:
                return [Text(text, data)];
            case "thinking_delta" when AnthropicResponseParser.GetString(delta, "thinking") is { Length: > 0 } thinking:
                return [Update(new TextReasoningContent(thinking), data)];
            case "signature_delta" when block is not null:
                block.Signature = AnthropicResponseParser.GetString(delta, "signature");
                return [];
            case "input_json_delta" when block is not null:
                // The first fragment is often "": the input is the concatenation of all fragments.
                var fragment = AnthropicResponseParser.GetString(delta, "partial_json") ?? string.Empty;
                block.Json.Append(fragment);
                block.HasDeltas = true;
                if (IsStructured(block) && !_structured!.Wrapped && fragment.Length > 0)
                {
                    // The structured answer's JSON is streamed as answer text while it arrives.
                    return [Text(fragment, data)];
                }

                return [];
            default:
                return [];
        }
    }

    private IReadOnlyList<ChatResponseUpdate> BlockStop(JsonElement data)
    {
        if (!data.TryGetProperty("index", out var indexElement) || !indexElement.TryGetInt32(out var index) ||
            !_blocks.Remove(index, out var block))
        {
            return [];
        }

        switch (block.Kind)
        {
            case "tool_use":
                // A streamed tool_use starts with input {} and the real input comes as fragments; a block that had no
                // fragments keeps its start input.
                var input = block.HasDeltas ? block.Json.ToString() : block.InitialInput;
                if (IsStructured(block))
                {
                    if (_structured!.Wrapped)
                    {
                        return [Text(AnthropicResponseParser.StructuredText(input ?? "{}", _structured), data)];
                    }

                    return block.HasDeltas || string.IsNullOrEmpty(input) ? [] : [Text(input, data)];
                }

                _hasToolCalls = true;
                return [Update(AnthropicResponseParser.ToolCall(block.Id, block.Name ?? string.Empty, input), data)];
            case "thinking" when !string.IsNullOrEmpty(block.Signature):
                // The signature must go back with the thinking text in the next request; it rides on an empty piece.
                return [Update(new TextReasoningContent(string.Empty) { ProtectedData = block.Signature }, data)];
            default:
                return [];
        }
    }

    private ChatResponseUpdate Final(JsonElement data)
    {
        var update = new ChatResponseUpdate(ChatRole.Assistant, _usage.HasValues ? [new UsageContent(_usage.ToUsageDetails())] : [])
        {
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _modelId,
            CreatedAt = _createdAt,
            FinishReason = AnthropicResponseParser.FinishReason(_stopReason, _hasToolCalls, _structured is not null),
            RawRepresentation = data,
        };

        if (_stopReason is not null)
        {
            update.AdditionalProperties = new AdditionalPropertiesDictionary { [AnthropicResponseParser.StopReasonKey] = _stopReason };
            if (_stopSequence is not null)
            {
                update.AdditionalProperties[AnthropicResponseParser.StopSequenceKey] = _stopSequence;
            }
        }

        return update;
    }

    private bool IsStructured(Block block) => _structured is not null && block.Kind == "tool_use" && block.Name == _structured.ToolName;

    private ChatResponseUpdate Text(string text, JsonElement raw)
    {
        _text.Append(text);
        return Update(new TextContent(text), raw);
    }

    private ChatResponseUpdate Update(AIContent content, JsonElement raw)
    {
        HasContent = true;
        return new ChatResponseUpdate(ChatRole.Assistant, [content])
        {
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _modelId,
            CreatedAt = _createdAt,
            RawRepresentation = raw,
        };
    }

    private sealed class Block(string kind)
    {
        public string Kind { get; } = kind;

        public string? Id { get; init; }

        public string? Name { get; init; }

        public string? InitialInput { get; init; }

        public StringBuilder Json { get; } = new();

        public bool HasDeltas { get; set; }

        public string? Signature { get; set; }
    }
}
