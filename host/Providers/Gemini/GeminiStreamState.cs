using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Gemini;

/// <summary>Follows one <c>streamGenerateContent?alt=sse</c> stream: turns chunks into updates and decides how it ended.</summary>
/// <remarks>
/// Gemini sends no <c>[DONE]</c>: a stream is complete only if some chunk carried a <c>finishReason</c>. Usage repeats
/// cumulatively in every chunk, so only the last one is reported, in a final update after the stream closes.
/// </remarks>
internal sealed class GeminiStreamState
{
    private readonly string _provider;
    private readonly string? _apiKey;
    private readonly DateTimeOffset _now;
    private readonly string _fallbackMessageId = Guid.NewGuid().ToString("N");
    private readonly GeminiPartReader _reader = new();
    private string? _responseId;
    private string _modelId;
    private string? _finishReason;
    private UsageDetails? _usage;

    public GeminiStreamState(string provider, string requestedModel, string? apiKey, DateTimeOffset now)
    {
        _provider = provider;
        _modelId = requestedModel;
        _apiKey = apiKey;
        _now = now;
    }

    /// <summary>Gets whether any update with content has been handed to the caller.</summary>
    public bool HasYielded { get; private set; }

    /// <summary>Gets the answer text streamed so far.</summary>
    public string PartialText => _reader.AnswerText;

    /// <summary>Reads one SSE event; returns the update to yield, or <see langword="null"/> when the chunk had no content.</summary>
    /// <exception cref="ProviderException">The chunk is an error or a blocked prompt.</exception>
    public ChatResponseUpdate? Process(SseEvent sseEvent)
    {
        if (string.IsNullOrWhiteSpace(sseEvent.Data))
        {
            return null;
        }

        var node = GeminiJson.TryParse(sseEvent.Data);
        if (node is JsonArray { Count: > 0 } array)
        {
            node = array[0];
        }

        if (node is not JsonObject chunk)
        {
            throw Fail(new ProviderException(ProviderErrorKind.ServerError, $"{_provider} sent a stream chunk that is not JSON.", _provider));
        }

        if (GeminiJson.GetObject(chunk, "error") is { } error)
        {
            throw Fail(GeminiErrors.FromError(_provider, error, httpStatus: null, headers: null, _now, _apiKey));
        }

        var candidate = GeminiResponseParser.FirstCandidate(chunk);
        if (candidate is null && GeminiJson.GetObject(chunk, "promptFeedback") is { } feedback &&
            GeminiJson.GetString(feedback, "blockReason") is not null)
        {
            throw Fail(GeminiErrors.Blocked(_provider, feedback));
        }

        _responseId = GeminiJson.GetString(chunk, "responseId") ?? _responseId;
        _modelId = GeminiJson.GetString(chunk, "modelVersion") ?? _modelId;
        if (GeminiJson.GetObject(chunk, "usageMetadata") is { } usage)
        {
            _usage = GeminiResponseParser.ParseUsage(usage);
        }

        if (GeminiJson.GetString(candidate, "finishReason") is { Length: > 0 } finishReason)
        {
            _finishReason = finishReason;
        }

        var contents = new List<AIContent>();
        _reader.Read(GeminiJson.GetArray(GeminiJson.GetObject(candidate, "content"), "parts"), contents);
        if (contents.Count == 0)
        {
            return null;
        }

        HasYielded = true;
        return NewUpdate(contents, chunk);
    }

    /// <summary>Builds the last update (finish reason and usage) once the stream has closed.</summary>
    /// <exception cref="ProviderException">The stream closed without a finish reason.</exception>
    public ChatResponseUpdate Complete()
    {
        if (_finishReason is null)
        {
            throw HasYielded
                ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {_provider} broke off: the stream ended without a finish reason.", _provider) { PartialText = PartialText }
                : new ProviderException(ProviderErrorKind.ServerError, $"{_provider} closed the stream without sending an answer.", _provider);
        }

        var contents = new List<AIContent>();
        if (_usage is not null)
        {
            contents.Add(new UsageContent(_usage));
        }

        var update = NewUpdate(contents, rawRepresentation: null);
        update.FinishReason = GeminiResponseParser.MapFinishReason(_finishReason, _reader.SawFunctionCall);
        return update;
    }

    /// <summary>Turns a failure into what the caller must see: the failure itself, or a truncation once pieces went out.</summary>
    public ProviderException Fail(ProviderException failure) =>
        HasYielded
            ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {_provider} broke off: {failure.Message}", _provider, failure.StatusCode, failure.RetryAfter, failure)
            {
                ErrorCode = failure.ErrorCode,
                PartialText = PartialText,
            }
            : failure;

    private ChatResponseUpdate NewUpdate(List<AIContent> contents, JsonObject? rawRepresentation) => new(ChatRole.Assistant, contents)
    {
        ResponseId = _responseId,
        MessageId = _responseId ?? _fallbackMessageId,
        ModelId = _modelId,
        CreatedAt = _now,
        RawRepresentation = rawRepresentation,
    };
}
