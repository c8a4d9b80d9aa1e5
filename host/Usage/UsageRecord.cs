namespace Ally.Host.Usage;

/// <summary>One routed call as the usage store keeps it.</summary>
internal sealed record UsageRecord
{
    public required DateTimeOffset Time { get; init; }

    public string? SessionId { get; init; }

    public string? Role { get; init; }

    /// <summary>Gets the provider that answered, or the last one tried when the call failed.</summary>
    public required string Provider { get; init; }

    public string? Model { get; init; }

    public long? InputTokens { get; init; }

    public long? OutputTokens { get; init; }

    public long? TotalTokens { get; init; }

    public long? CachedInputTokens { get; init; }

    public long? ReasoningTokens { get; init; }

    /// <summary>Gets the cost in US dollars, or <see langword="null"/> when it is unknown.</summary>
    public decimal? CostUsd { get; init; }

    public long LatencyMs { get; init; }

    public long? TimeToFirstTokenMs { get; init; }

    /// <summary>Gets <c>ok</c>, <c>cancelled</c>, or the error kind in snake_case (<c>rate_limit</c>, <c>truncated_stream</c>).</summary>
    public required string Outcome { get; init; }

    /// <summary>Gets the attempts as JSON (an array of <c>{"provider","model","error","message","wait_seconds","latency_ms"}</c>).</summary>
    public string? AttemptsJson { get; init; }
}
