namespace Ally.Host.Routing;

/// <summary>config.json's <c>router</c> section.</summary>
internal sealed record RouterOptions
{
    /// <summary>Gets how candidates are ordered. Default <see cref="RouterStrategy.Priority"/>.</summary>
    public RouterStrategy Strategy { get; init; } = RouterStrategy.Priority;

    /// <summary>Gets the weights of the <see cref="RouterStrategy.Weighted"/> strategy by provider; unlisted providers weigh 1.</summary>
    public IReadOnlyDictionary<string, int> Weights { get; init; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the longest wait for a rate-limited provider's <c>retry-after</c> before moving on (<c>max_retry_wait_seconds</c>, default 60, 0 to 3600).</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets how long a failing or rate-limited provider is skipped (<c>cooldown_seconds</c>, default 30, 0 to 86400).</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets how often a provider is retried after overload, 5xx, network errors and timeouts (<c>max_retries</c>, default 2, 0 to 10).</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>Gets the first backoff delay; later ones double, with jitter (<c>retry_base_delay_seconds</c>, default 1).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the time a whole call may take, every attempt and wait included (<c>timeout_seconds</c>, default 600).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Gets the longest wait for a stream's first piece (<c>first_token_timeout_seconds</c>, default 60).</summary>
    public TimeSpan FirstTokenTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets the longest wait between two streamed pieces (<c>idle_timeout_seconds</c>, default 60).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets the output tokens assumed for a call that sets no <c>MaxOutputTokens</c>, for budgets, <c>tpm</c> and lowest-cost ordering.</summary>
    public int EstimatedOutputTokens { get; init; } = 1024;

    /// <summary>Gets how many calls in <see cref="CircuitSamplingDuration"/>, at least half of them failed after their retries, put a provider in cooldown.</summary>
    public int CircuitMinimumThroughput { get; init; } = 3;

    public TimeSpan CircuitSamplingDuration { get; init; } = TimeSpan.FromSeconds(60);
}
