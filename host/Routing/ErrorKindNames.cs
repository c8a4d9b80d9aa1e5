using Ally.Abstractions;

namespace Ally.Host.Routing;

/// <summary>The snake_case names of failure kinds, as <c>--json</c> output and the usage store show them.</summary>
internal static class ErrorKindNames
{
    public const string Cooldown = "cooldown";
    public const string LocalRateLimit = "local_rate_limit";
    public const string BudgetExceeded = "budget_exceeded";
    public const string ContextWindowTooSmall = "context_window_too_small";
    public const string Unavailable = "unavailable";
    public const string Cancelled = "cancelled";

    public static string Of(ProviderErrorKind kind) => kind switch
    {
        ProviderErrorKind.Authentication => "authentication",
        ProviderErrorKind.QuotaExceeded => "quota_exceeded",
        ProviderErrorKind.RateLimit => "rate_limit",
        ProviderErrorKind.Overloaded => "overloaded",
        ProviderErrorKind.ServerError => "server_error",
        ProviderErrorKind.Network => "network",
        ProviderErrorKind.InvalidRequest => "invalid_request",
        ProviderErrorKind.ContextLengthExceeded => "context_length_exceeded",
        ProviderErrorKind.ContentFilter => "content_filter",
        ProviderErrorKind.NotFound => "not_found",
        ProviderErrorKind.Timeout => "timeout",
        ProviderErrorKind.TruncatedStream => "truncated_stream",
        _ => "unknown",
    };
}
