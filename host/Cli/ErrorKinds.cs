using Ally.Abstractions;

namespace Ally.Host.Cli;

/// <summary>The snake_case names of error kinds used in JSON output and the gateway.</summary>
internal static class ErrorKinds
{
    public static string Name(ProviderErrorKind kind) => kind switch
    {
        ProviderErrorKind.Authentication => "auth",
        ProviderErrorKind.QuotaExceeded => "quota",
        ProviderErrorKind.RateLimit => "rate_limit",
        ProviderErrorKind.Overloaded => "overloaded",
        ProviderErrorKind.ServerError => "server_error",
        ProviderErrorKind.Network => "network",
        ProviderErrorKind.InvalidRequest => "invalid_request",
        ProviderErrorKind.ContextLengthExceeded => "context_length",
        ProviderErrorKind.ContentFilter => "content_filter",
        ProviderErrorKind.NotFound => "not_found",
        ProviderErrorKind.Timeout => "timeout",
        ProviderErrorKind.TruncatedStream => "truncated_stream",
        _ => "unknown",
    };

    public static string FinishReason(Microsoft.Extensions.AI.ChatFinishReason? reason) =>
        reason is null ? "stop"
        : reason == Microsoft.Extensions.AI.ChatFinishReason.Length ? "length"
        : reason == Microsoft.Extensions.AI.ChatFinishReason.ToolCalls ? "tool_calls"
        : reason == Microsoft.Extensions.AI.ChatFinishReason.ContentFilter ? "content_filter"
        : "stop";
}
