using System.Globalization;
using System.Net.Http.Headers;
using Ally.Abstractions;
using Newtonsoft.Json.Linq;

namespace Ally.Plugins.Cohere;

/// <summary>Turns Cohere's failures into <see cref="ProviderException"/>s a router can act on.</summary>
/// <remarks>
/// Cohere's error body is <c>{"message": "..."}</c>, sometimes with an <c>id</c>, and carries no error code, so the
/// HTTP status decides the kind (https://docs.cohere.com/reference/errors).
/// </remarks>
internal static class CohereErrors
{
    private const int MaxMessageLength = 1_000;

    public static async Task<ProviderException> FromResponseAsync(
        HttpResponseMessage response,
        string provider,
        string? apiKey,
        DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);

        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            body = string.Empty;
        }

        var status = (int)response.StatusCode;
        var message = MessageFrom(CohereJson.TryParseObject(body)) ?? Shorten(body.Trim());
        if (string.IsNullOrWhiteSpace(message))
        {
            message = response.ReasonPhrase ?? "no details";
        }

        message = Redact(message, apiKey);
        return new ProviderException(
            Classify(status, message),
            $"{provider} returned HTTP {status}: {message}",
            provider,
            status,
            RetryAfter(response.Headers, now));
    }

    /// <summary>Classifies an error object written into an HTTP 200 stream.</summary>
    public static ProviderException FromStreamEvent(JObject error, string provider, string? apiKey, bool afterFirstPiece, string partialText)
    {
        var message = Redact(MessageFrom(error) ?? "unknown error", apiKey);
        var status = CohereJson.Long(error, "status_code") is { } code and >= 100 and < 600 ? (int)code : 500;
        if (afterFirstPiece)
        {
            return new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {provider} broke off with an error: {message}", provider)
            {
                PartialText = partialText,
            };
        }

        return new ProviderException(Classify(status, message), $"{provider} failed while streaming: {message}", provider);
    }

    /// <summary>Classifies an exception thrown by <see cref="HttpClient"/> itself: no response, or a broken stream.</summary>
    public static ProviderException FromTransport(string provider, Exception exception, bool afterFirstPiece, string partialText) =>
        afterFirstPiece
            ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The connection to {provider} broke while the answer was streaming: {exception.Message}", provider, innerException: exception)
            {
                PartialText = partialText,
            }
            : new ProviderException(ProviderErrorKind.Network, $"Could not reach {provider}: {exception.Message}", provider, innerException: exception);

    public static ProviderErrorKind Classify(int status, string? message)
    {
        var lower = message?.ToLowerInvariant() ?? string.Empty;
        if (status is 400 or 413 or 422 &&
            (lower.Contains("too many tokens", StringComparison.Ordinal) ||
             lower.Contains("context length", StringComparison.Ordinal) ||
             lower.Contains("context window", StringComparison.Ordinal) ||
             lower.Contains("maximum context", StringComparison.Ordinal)))
        {
            return ProviderErrorKind.ContextLengthExceeded;
        }

        return status switch
        {
            // 498 is Cohere's "invalid token".
            401 or 403 or 498 => ProviderErrorKind.Authentication,
            402 => ProviderErrorKind.QuotaExceeded,
            404 => ProviderErrorKind.NotFound,
            408 => ProviderErrorKind.Timeout,
            413 => ProviderErrorKind.ContextLengthExceeded,
            429 => ProviderErrorKind.RateLimit,

            // 499 means the request was cancelled on the way; the caller did not cancel it, so it is worth retrying.
            499 => ProviderErrorKind.Network,
            503 or 529 => ProviderErrorKind.Overloaded,
            >= 500 => ProviderErrorKind.ServerError,
            400 or 409 or 422 => ProviderErrorKind.InvalidRequest,
            _ => ProviderErrorKind.Unknown,
        };
    }

    /// <summary>Reads <c>retry-after</c>: seconds (possibly fractional) or an HTTP date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);

        if (headers.RetryAfter is { Delta: { } delta })
        {
            return delta;
        }

        if (headers.RetryAfter is { Date: { } date })
        {
            var wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        // HttpResponseHeaders.RetryAfter refuses fractional seconds, which some gateways send.
        if (headers.TryGetValues("retry-after", out var values) &&
            double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) &&
            seconds >= 0 && seconds < TimeSpan.MaxValue.TotalSeconds)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return null;
    }

    /// <summary>Removes the key from any text that could reach a message, in case a server echoes it back.</summary>
    public static string Redact(string text, string? apiKey) =>
        string.IsNullOrEmpty(apiKey) || apiKey.Length < 4 ? text : text.Replace(apiKey, "[redacted]", StringComparison.Ordinal);

    private static string? MessageFrom(JObject? error) =>
        CohereJson.String(error, "message") is { Length: > 0 } message ? message : null;

    private static string Shorten(string text) =>
        text.Length <= MaxMessageLength ? text : string.Concat(text.AsSpan(0, MaxMessageLength), "…");
}
