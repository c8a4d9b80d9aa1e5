using System.Net.Http.Headers;
using Ally.Abstractions;

namespace Ally.Host.Providers.Http;

/// <summary>Maps HTTP failures to the contract's error kinds, by status code first and the provider's code second.</summary>
/// <remarks>
/// The error <c>type</c> field does not identify the error (OpenAI sends <c>invalid_request_error</c> with a 401),
/// so classification is by status and <c>code</c>, as PROVIDER-QUIRKS.md says.
/// </remarks>
internal static class HttpErrorClassifier
{
    public static ProviderErrorKind Classify(int status, string? code, string? message)
    {
        var lowerCode = code?.ToLowerInvariant() ?? string.Empty;
        var lowerMessage = message?.ToLowerInvariant() ?? string.Empty;

        if (lowerCode is "context_length_exceeded" or "string_above_max_length" ||
            lowerMessage.Contains("prompt is too long", StringComparison.Ordinal) ||
            lowerMessage.Contains("context length", StringComparison.Ordinal) ||
            lowerMessage.Contains("context_length_exceeded", StringComparison.Ordinal) ||
            lowerMessage.Contains("maximum context", StringComparison.Ordinal) ||
            lowerMessage.Contains("input token count", StringComparison.Ordinal) && lowerMessage.Contains("exceeds", StringComparison.Ordinal))
        {
            return ProviderErrorKind.ContextLengthExceeded;
        }

        // Anthropic reports an empty balance as a 400 invalid_request_error whose message says so, or as billing_error.
        if (lowerCode is "insufficient_quota" or "billing_hard_limit_reached" or "billing_error" ||
            lowerMessage.Contains("credit balance is too low", StringComparison.Ordinal))
        {
            return ProviderErrorKind.QuotaExceeded;
        }

        if (lowerCode is "content_filter" or "content_policy_violation")
        {
            return ProviderErrorKind.ContentFilter;
        }

        if (lowerCode is "invalid_api_key" or "api_key_invalid" or "authentication_error" or "permission_error" or "permission_denied" or "unauthenticated")
        {
            return ProviderErrorKind.Authentication;
        }

        if (lowerCode is "model_not_found" or "not_found_error")
        {
            return ProviderErrorKind.NotFound;
        }

        if (lowerCode is "overloaded_error")
        {
            return ProviderErrorKind.Overloaded;
        }

        return status switch
        {
            401 or 403 => ProviderErrorKind.Authentication,
            402 => ProviderErrorKind.QuotaExceeded,
            404 => ProviderErrorKind.NotFound,
            408 => ProviderErrorKind.Timeout,
            413 => ProviderErrorKind.ContextLengthExceeded,
            429 => ProviderErrorKind.RateLimit,
            503 or 529 => ProviderErrorKind.Overloaded,
            >= 500 => ProviderErrorKind.ServerError,
            400 or 409 or 422 => ProviderErrorKind.InvalidRequest,
            _ => ProviderErrorKind.Unknown,
        };
    }

    /// <summary>
    /// Builds the error for a redirect (3xx), which the built-in providers do not follow: it names the new address
    /// and the setting to change, since following it would have dropped the API key. Returns <see langword="null"/>
    /// for any other status. The kind is <see cref="ProviderErrorKind.NotFound"/>: the call is not retried, and a
    /// fallback takes it.
    /// </summary>
    public static ProviderException? Redirect(string provider, int status, HttpResponseHeaders? headers, Uri? requestUri)
    {
        if (status is < 300 or >= 400)
        {
            return null;
        }

        var location = headers?.Location is { } target
            ? (target.IsAbsoluteUri || requestUri is null ? target : new Uri(requestUri, target))
            : null;
        var where = location is null ? "another address (no Location header)" : ShowAddress(location);
        return new ProviderException(
            ProviderErrorKind.NotFound,
            $"{provider} answered HTTP {status}, moved to {where}. Ally does not follow redirects, which would drop the API key: set base_url for '{provider}' in config.json (providers.{provider}.base_url) to the new address.",
            provider,
            status);
    }

    // Only scheme, host, port and path: a query string may carry a key (Gemini's ?key=).
    private static string ShowAddress(Uri address) =>
        address.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    /// <summary>Classifies an exception thrown by <see cref="HttpClient"/> itself (no response).</summary>
    public static ProviderException FromTransport(string provider, Exception exception, bool afterFirstPiece, string? partialText) =>
        afterFirstPiece
            ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The connection to {provider} broke while the answer was streaming: {exception.Message}", provider, innerException: exception) { PartialText = partialText }
            : new ProviderException(ProviderErrorKind.Network, $"Could not reach {provider}: {exception.Message}", provider, innerException: exception);
}
