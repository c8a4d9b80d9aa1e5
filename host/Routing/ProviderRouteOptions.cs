namespace Ally.Host.Routing;

/// <summary>The router's per-provider settings from <c>providers.&lt;name&gt;</c> in config.json; unset values fall back to <c>router</c>.</summary>
internal sealed record ProviderRouteOptions
{
    /// <summary>Gets the time one attempt at this provider may take (<c>timeout_seconds</c>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Gets the longest wait for a stream's first piece (<c>first_token_timeout_seconds</c>).</summary>
    public TimeSpan? FirstTokenTimeout { get; init; }

    /// <summary>Gets the longest wait between two streamed pieces (<c>idle_timeout_seconds</c>).</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Gets the most requests a minute Ally sends to this provider (<c>rpm</c>), or <see langword="null"/> for no limit.</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>Gets the most tokens a minute (estimated prompt plus requested output) Ally sends (<c>tpm</c>), or <see langword="null"/>.</summary>
    public int? TokensPerMinute { get; init; }
}
