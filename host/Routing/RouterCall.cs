using System.Runtime.InteropServices;
using System.Text.Json;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;

namespace Ally.Host.Routing;

/// <summary>The state of one routed call: its deadline, its attempts, and what to record when it ends.</summary>
internal sealed class RouterCall : IDisposable
{
    private readonly List<RouterAttempt> _attempts = [];
    private readonly TimeProvider _timeProvider;
    private readonly DateTimeOffset _deadline;

    public RouterCall(
        RouterOptions options,
        TimeProvider timeProvider,
        IReadOnlyList<ChatMessage> messages,
        ChatOptions? chatOptions,
        RouteCandidate primary,
        string? role,
        string? sessionId,
        bool streaming,
        CancellationToken callerToken)
    {
        Options = options;
        _timeProvider = timeProvider;
        Messages = messages;
        ChatOptions = chatOptions;
        Primary = primary;
        Role = role;
        SessionId = sessionId;
        Streaming = streaming;
        CallerToken = callerToken;
        StartedAt = timeProvider.GetUtcNow();
        StartTimestamp = timeProvider.GetTimestamp();
        _deadline = StartedAt + options.Timeout;
        Total = new TimeoutScope(callerToken, options.Timeout, "router.timeout_seconds", timeProvider);
        EstimatedInputTokens = EstimateInputTokens(messages, chatOptions);
        EstimatedOutputTokens = chatOptions?.MaxOutputTokens is { } max and > 0 ? max : options.EstimatedOutputTokens;
    }

    public RouterOptions Options { get; }

    public IReadOnlyList<ChatMessage> Messages { get; }

    public ChatOptions? ChatOptions { get; }

    public RouteCandidate Primary { get; }

    public string? Role { get; }

    public string? SessionId { get; }

    public bool Streaming { get; }

    public CancellationToken CallerToken { get; }

    /// <summary>Gets the scope of <c>router.timeout_seconds</c>, which bounds every attempt and wait of the call.</summary>
    public TimeoutScope Total { get; }

    public DateTimeOffset StartedAt { get; }

    public long StartTimestamp { get; }

    public int EstimatedInputTokens { get; }

    public int EstimatedOutputTokens { get; }

    public TimeSpan Remaining => _deadline - _timeProvider.GetUtcNow();

    /// <summary>Gets or sets whether any attempt reached a provider (a call refused by a budget or skipped entirely is not recorded).</summary>
    public bool Sent { get; set; }

    public Exception? LastFailure { get; set; }

    public BudgetExceededException? BudgetRefusal { get; set; }

    /// <summary>Gets or sets the context window a candidate must exceed after a context-length failure; <see cref="ContextLimited"/> says whether one applies.</summary>
    public int? MinimumContextWindow { get; set; }

    public bool ContextLimited { get; set; }

    public RouteCandidate? ContextFailedCandidate { get; set; }

    public List<BudgetReservation> Reservations { get; } = [];

    public BudgetReservation? SuccessReservation { get; set; }

    public string? Provider { get; set; }

    public string? Model { get; set; }

    public UsageDetails? Usage { get; set; }

    public decimal? Cost { get; set; }

    public TimeSpan? TimeToFirstToken { get; set; }

    /// <summary>Gets or sets <c>ok</c>, <c>cancelled</c>, or an error kind; <see langword="null"/> while the call runs.</summary>
    public string? Outcome { get; set; }

    public TimeSpan Elapsed => _timeProvider.GetElapsedTime(StartTimestamp);

    public IReadOnlyList<RouterAttempt> Attempts
    {
        get
        {
            lock (_attempts)
            {
                return _attempts.ToArray();
            }
        }
    }

    public void AddAttempt(RouterAttempt attempt)
    {
        lock (_attempts)
        {
            _attempts.Add(attempt);
        }
    }

    /// <summary>Notes the wait Polly chose before retrying, on the attempt that caused it.</summary>
    public void NoteWait(TimeSpan delay)
    {
        lock (_attempts)
        {
            if (_attempts.Count > 0)
            {
                _attempts[^1] = _attempts[^1] with { WaitSeconds = delay.TotalSeconds };
            }
        }
    }

    /// <summary>Marks the last attempt as failed after all (a stream that broke after its first piece).</summary>
    public void FailLastAttempt(string error, string message, TimeSpan attemptElapsed)
    {
        lock (_attempts)
        {
            if (_attempts.Count > 0)
            {
                _attempts[^1] = _attempts[^1] with { Error = error, Message = message, LatencyMs = (long)attemptElapsed.TotalMilliseconds };
            }
        }
    }

    /// <summary>Attaches the attempts to an exception the caller will see.</summary>
    public TException Attach<TException>(TException exception)
        where TException : Exception
    {
        exception.Data[RouterAttempts.Key] = Attempts;
        return exception;
    }

    public void Dispose() => Total.Dispose();

    /// <summary>Estimates the prompt's tokens at four characters a token, the usual rule of thumb for English and code.</summary>
    private static int EstimateInputTokens(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        long chars = options?.Instructions?.Length ?? 0;

        // Index loops: foreach over the IList of contents would box an enumerator per message, on every call.
        for (var m = 0; m < messages.Count; m++)
        {
            var contents = messages[m].Contents;
            for (var c = 0; c < contents.Count; c++)
            {
                chars += contents[c] switch
                {
                    TextContent text => text.Text?.Length ?? 0,
                    TextReasoningContent reasoning => reasoning.Text?.Length ?? 0,
                    FunctionCallContent call => call.Name.Length + (call.Arguments?.Sum(a => a.Key.Length + (a.Value?.ToString()?.Length ?? 0)) ?? 0),
                    FunctionResultContent result => result.Result?.ToString()?.Length ?? 0,
                    // An image costs roughly a thousand tokens on the major providers.
                    DataContent or UriContent => 4_000,
                    _ => 0,
                };
            }
        }

        if (options?.Tools is { } tools)
        {
            for (var t = 0; t < tools.Count; t++)
            {
                var tool = tools[t];
                chars += tool.Name.Length + tool.Description.Length + (tool is AIFunctionDeclaration f ? SchemaLength(f.JsonSchema) : 0);
            }
        }

        return (int)Math.Min(int.MaxValue, (chars + 3) / 4);
    }

    // The schema's UTF-8 length, read in place: GetRawText would copy every tool's schema into a string on every call.
    private static int SchemaLength(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Undefined ? 0 : JsonMarshal.GetRawUtf8Value(schema).Length;
}
