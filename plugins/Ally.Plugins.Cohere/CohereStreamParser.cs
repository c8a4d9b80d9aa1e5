using Ally.Host.Providers.Http;
using System.Text;
using Ally.Abstractions;
using Microsoft.Extensions.AI;
using Newtonsoft.Json.Linq;

namespace Ally.Plugins.Cohere;

/// <summary>Turns the events of one Cohere v2 chat stream into updates, accumulating tool call fragments.</summary>
/// <remarks>
/// Events (https://docs.cohere.com/reference/chat-stream): <c>message-start</c>, <c>content-start</c>,
/// <c>content-delta</c>, <c>content-end</c>, <c>tool-plan-delta</c>, <c>tool-call-start</c>, <c>tool-call-delta</c>,
/// <c>tool-call-end</c>, <c>citation-start</c>, <c>citation-end</c>, <c>message-end</c>. The kind is read from the data's
/// <c>type</c> and, failing that, from the SSE event name.
/// </remarks>
internal sealed class CohereStreamParser
{
    private readonly string _provider;
    private readonly string _model;
    private readonly string? _apiKey;
    private readonly DateTimeOffset _createdAt;
    private readonly StringBuilder _text = new();
    private readonly SortedDictionary<int, PendingToolCall> _pendingCalls = [];
    private string? _responseId;
    private int _lastCallIndex;
    private bool _sawToolCall;

    public CohereStreamParser(string provider, string model, string? apiKey, DateTimeOffset createdAt)
    {
        _provider = provider;
        _model = model;
        _apiKey = apiKey;
        _createdAt = createdAt;
    }

    /// <summary>Gets a value indicating whether <c>message-end</c> arrived.</summary>
    public bool Finished { get; private set; }

    /// <summary>Gets a value indicating whether any piece of the answer was handed out.</summary>
    public bool EmittedAny { get; private set; }

    /// <summary>Gets the answer text handed out so far.</summary>
    public string Text => _text.ToString();

    /// <summary>Handles one event, returning the updates it produces (often none, rarely more than one).</summary>
    /// <exception cref="ProviderException">The event reports a failure.</exception>
    public IReadOnlyList<ChatResponseUpdate> Handle(SseEvent sseEvent)
    {
        if (CohereJson.TryParseObject(sseEvent.Data) is not { } data)
        {
            // Keep-alive or junk between events: nothing to hand out.
            return [];
        }

        var type = CohereJson.String(data, "type") ?? sseEvent.EventType;
        var message = data["delta"]?["message"] as JObject;
        switch (type)
        {
            case "message-start":
                _responseId = CohereJson.String(data, "id") ?? _responseId;
                return [];
            case "content-start":
            case "content-delta":
                return Content(message?["content"] as JObject, data);
            case "tool-plan-delta" when CohereJson.String(message, "tool_plan") is { Length: > 0 } plan:
                return [Update(data, new TextReasoningContent(plan))];
            case "tool-call-start":
                StartCall(Index(data), FirstCall(message));
                return [];
            case "tool-call-delta":
                AppendCall(Index(data), FirstCall(message));
                return [];
            case "tool-call-end":
                return EndCall(Index(data), data);
            case "message-end":
                return End(data);
            case "error":
                throw CohereErrors.FromStreamEvent(data, _provider, _apiKey, EmittedAny, Text);
            case "message" or "raw" when data["delta"] is null && CohereJson.String(data, "message") is not null:
                // A bare {"message": "..."} error body written into the stream.
                throw CohereErrors.FromStreamEvent(data, _provider, _apiKey, EmittedAny, Text);
            default:
                return [];
        }
    }

    /// <summary>Describes a stream that ended without <c>message-end</c>.</summary>
    public ProviderException Unterminated() =>
        EmittedAny
            ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {_provider} broke off before it was complete.", _provider) { PartialText = Text }
            : new ProviderException(ProviderErrorKind.ServerError, $"{_provider} ended the stream before sending an answer.", _provider);

    private IReadOnlyList<ChatResponseUpdate> Content(JObject? content, JObject data)
    {
        if (CohereJson.String(content, "text") is { Length: > 0 } text)
        {
            _text.Append(text);
            return [Update(data, new TextContent(text))];
        }

        if (CohereJson.String(content, "thinking") is { Length: > 0 } thinking)
        {
            return [Update(data, new TextReasoningContent(thinking))];
        }

        return [];
    }

    private void StartCall(int? index, JObject? call)
    {
        var key = index ?? (_pendingCalls.Count == 0 && !_sawToolCall ? 0 : _lastCallIndex + 1);
        var pending = new PendingToolCall(CohereJson.String(call, "id"), CohereJson.String(call?["function"], "name"));
        pending.Arguments.Append(CohereJson.String(call?["function"], "arguments"));
        _pendingCalls[key] = pending;
        _lastCallIndex = key;
        _sawToolCall = true;
    }

    private void AppendCall(int? index, JObject? call)
    {
        var key = index ?? _lastCallIndex;
        if (!_pendingCalls.TryGetValue(key, out var pending))
        {
            // A delta without its start: begin the call here rather than lose its arguments.
            StartCall(key, call);
            return;
        }

        pending.Id ??= CohereJson.String(call, "id");
        pending.Name ??= CohereJson.String(call?["function"], "name");
        pending.Arguments.Append(CohereJson.String(call?["function"], "arguments"));
    }

    private IReadOnlyList<ChatResponseUpdate> EndCall(int? index, JObject data)
    {
        var key = index ?? _lastCallIndex;
        if (!_pendingCalls.Remove(key, out var pending))
        {
            return [];
        }

        return [Update(data, pending.ToContent())];
    }

    private IReadOnlyList<ChatResponseUpdate> End(JObject data)
    {
        var delta = data["delta"] as JObject;
        var finishReason = CohereJson.String(delta, "finish_reason");
        if (CohereResponseParser.Failure(finishReason, _provider, Text, afterFirstPiece: EmittedAny) is { } failure)
        {
            throw failure;
        }

        // Calls whose tool-call-end never came are still complete enough to hand out.
        var contents = new List<AIContent>(_pendingCalls.Values.Select(p => p.ToContent()));
        _sawToolCall |= _pendingCalls.Count > 0;
        _pendingCalls.Clear();

        if (CohereResponseParser.ParseUsage(delta?["usage"]) is { } usage)
        {
            contents.Add(new UsageContent(usage) { RawRepresentation = delta?["usage"] });
        }

        var update = Update(data, contents);
        update.FinishReason = _sawToolCall ? ChatFinishReason.ToolCalls : CohereResponseParser.MapFinishReason(finishReason);
        Finished = true;
        return [update];
    }

    private ChatResponseUpdate Update(JObject data, AIContent content) => Update(data, [content]);

    private ChatResponseUpdate Update(JObject data, IList<AIContent> contents)
    {
        EmittedAny = true;
        return new ChatResponseUpdate(ChatRole.Assistant, contents)
        {
            ResponseId = _responseId,
            MessageId = _responseId,
            ModelId = _model,
            CreatedAt = _createdAt,
            RawRepresentation = data,
        };
    }

    private static int? Index(JObject data) => CohereJson.Long(data, "index") is { } index ? (int)index : null;

    // Cohere sends one call as an object under tool_calls; accept an array too.
    private static JObject? FirstCall(JObject? message) => message?["tool_calls"] switch
    {
        JObject call => call,
        JArray calls => calls.OfType<JObject>().FirstOrDefault(),
        _ => null,
    };

    private sealed class PendingToolCall(string? id, string? name)
    {
        public string? Id { get; set; } = id;

        public string? Name { get; set; } = name;

        public StringBuilder Arguments { get; } = new();

        public FunctionCallContent ToContent() => CohereResponseParser.ToolCall(Id, Name, Arguments.ToString(), null);
    }
}
