using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Usage;

namespace Ally.Host.Gateway;

/// <summary>Maps failures to OpenAI-style errors with the status codes OpenAI clients expect.</summary>
internal static class GatewayErrors
{
    /// <summary>The code of a call the router refused because it could take spending past <c>budget.session_usd</c> or <c>budget.daily_usd</c>.</summary>
    public const string BudgetExceeded = "budget_exceeded";

    public static GatewayError InvalidKey { get; } =
        new(401, GatewayError.InvalidRequest, "invalid_api_key", "Missing or invalid API key. Send 'Authorization: Bearer <key>' with a key this gateway accepts.");

    public static GatewayError InvalidAdminKey { get; } =
        new(401, GatewayError.InvalidRequest, "invalid_api_key", "Missing or invalid admin key. Send 'Authorization: Bearer <admin key>'.");

    public static GatewayError AdminLoopbackOnly { get; } =
        new(403, GatewayError.Permission, "admin_loopback_only", "No admin key is configured, so the management API answers only on this machine. Set gateway.admin_key or ALLY_GATEWAY_ADMIN_KEY to use it remotely.");

    public static GatewayError ForeignHost { get; } =
        new(403, GatewayError.Permission, "host_not_allowed", "Without keys the gateway answers only requests addressed to localhost, 127.0.0.1 or [::1].");

    public static GatewayError NeedsJson { get; } =
        new(415, GatewayError.InvalidRequest, "unsupported_media_type", "POST bodies must be sent with 'Content-Type: application/json'.");

    public static GatewayError TooLarge(long limit) =>
        new(413, GatewayError.InvalidRequest, "request_too_large", $"The request body is larger than this gateway accepts ({limit} bytes; gateway.max_request_bytes).");

    public static GatewayError TooManyStreams { get; } =
        new(429, GatewayError.RateLimit, "too_many_streams", "Too many streamed answers are being served right now (gateway.max_concurrent_streams). Try again shortly.", RetryAfter: TimeSpan.FromSeconds(1));

    public static GatewayError RateLimited(TimeSpan? retryAfter) =>
        new(429, GatewayError.RateLimit, "rate_limit_exceeded", "Too many requests for this key (gateway.rpm_per_key). Try again later.", RetryAfter: retryAfter);

    public static GatewayError ModelNotFound(string message) => new(404, GatewayError.InvalidRequest, "model_not_found", message, "model");

    public static GatewayError NotFound(string message) => new(404, GatewayError.InvalidRequest, "not_found", message);

    public static GatewayError Internal { get; } = new(500, GatewayError.Server, "internal_error", "The gateway failed to handle the request; see its log.");

    public static GatewayError FromConfig(ConfigException exception, SecretRedactor redactor) =>
        new(400, GatewayError.InvalidRequest, "provider_not_ready", redactor.Redact(exception.Message), "model");

    /// <summary>
    /// Maps a budget refusal to 402 Payment Required: unlike a 429 it is not cured by retrying soon, and OpenAI's SDKs
    /// do not retry it. The message names the budget key and the amounts, which are the operator's, not secrets.
    /// </summary>
    public static GatewayError FromBudget(BudgetExceededException exception, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(redactor);
        return new(402, GatewayError.Quota, BudgetExceeded, redactor.Redact(exception.Message));
    }

    /// <summary>Maps a provider failure; the message is the provider's own words with every known secret masked.</summary>
    public static GatewayError FromProvider(ProviderException exception, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(redactor);
        var who = exception.Provider is { } provider ? $"{provider}: " : string.Empty;
        var message = who + redactor.Redact(exception.Message);
        return exception.Kind switch
        {
            ProviderErrorKind.Authentication => new(401, GatewayError.Authentication, "provider_auth_failed", message),
            ProviderErrorKind.InvalidRequest => new(400, GatewayError.InvalidRequest, exception.ErrorCode ?? "invalid_request", message),
            ProviderErrorKind.NotFound => new(404, GatewayError.InvalidRequest, "model_not_found", message, "model"),
            ProviderErrorKind.ContextLengthExceeded => new(400, GatewayError.InvalidRequest, "context_length_exceeded", message, "messages"),
            ProviderErrorKind.ContentFilter => new(400, GatewayError.InvalidRequest, "content_filter", message),
            ProviderErrorKind.RateLimit => new(429, GatewayError.RateLimit, "rate_limit_exceeded", message, RetryAfter: exception.RetryAfter),
            ProviderErrorKind.QuotaExceeded => new(429, GatewayError.Quota, "insufficient_quota", message, RetryAfter: exception.RetryAfter),
            ProviderErrorKind.Overloaded => new(503, GatewayError.Server, "overloaded", message, RetryAfter: exception.RetryAfter),
            ProviderErrorKind.Timeout => new(504, GatewayError.Upstream, "upstream_timeout", message),
            ProviderErrorKind.Network => new(502, GatewayError.Upstream, "upstream_unreachable", message),
            ProviderErrorKind.TruncatedStream => new(502, GatewayError.Upstream, "stream_truncated", message),
            _ => new(502, GatewayError.Upstream, "upstream_error", message),
        };
    }
}
