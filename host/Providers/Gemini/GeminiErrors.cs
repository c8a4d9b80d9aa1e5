using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Http;

namespace Ally.Host.Providers.Gemini;

/// <summary>Turns Gemini's <c>{"error": {"code", "message", "status", "details"}}</c> bodies into classified exceptions.</summary>
internal static class GeminiErrors
{
    private const int MaxSnippetLength = 300;

    /// <summary>Builds the exception for a non-success HTTP response.</summary>
    public static ProviderException FromHttp(string provider, int status, string? reasonPhrase, string body, HttpResponseHeaders? headers, DateTimeOffset now, string? apiKey)
    {
        var root = GeminiJson.TryParse(body);

        // streamGenerateContent without alt=sse (and some proxies) wrap the error in an array.
        if (root is JsonArray { Count: > 0 } array)
        {
            root = array[0];
        }

        if (root is JsonObject obj && obj["error"] is JsonObject error)
        {
            return FromError(provider, error, status, headers, now, apiKey);
        }

        var snippet = body.Length > MaxSnippetLength ? body[..MaxSnippetLength] + "…" : body;
        var message = string.IsNullOrWhiteSpace(snippet)
            ? $"{provider} answered HTTP {status} {reasonPhrase}".TrimEnd()
            : $"{provider} answered HTTP {status} {reasonPhrase}: {snippet.Trim()}";
        var kind = HttpErrorClassifier.Classify(status, null, message);
        var retryAfter = headers is null ? null : RetryAfterParser.FromHeaders(headers, now);
        return new ProviderException(kind, Scrub(message, apiKey), provider, status, retryAfter);
    }

    /// <summary>Builds the exception for an <c>error</c> object, from an HTTP error body or in-band in a stream.</summary>
    public static ProviderException FromError(string provider, JsonObject error, int? httpStatus, HttpResponseHeaders? headers, DateTimeOffset now, string? apiKey)
    {
        var code = GeminiJson.GetLong(error, "code");
        var status = (int?)(httpStatus ?? code) ?? 0;
        var statusName = GeminiJson.GetString(error, "status");
        var message = GeminiJson.GetString(error, "message");
        string? reason = null;
        string? retryDelay = null;
        foreach (var detail in GeminiJson.GetArray(error, "details") ?? [])
        {
            if (detail is not JsonObject d)
            {
                continue;
            }

            reason ??= GeminiJson.GetString(d, "reason");
            retryDelay ??= GeminiJson.GetString(d, "retryDelay");
        }

        // A bad key is a 400 INVALID_ARGUMENT whose only mark is the ErrorInfo reason (PROVIDER-QUIRKS.md).
        if (reason is null && message is not null && message.Contains("API key not valid", StringComparison.OrdinalIgnoreCase))
        {
            reason = "API_KEY_INVALID";
        }

        var kind = HttpErrorClassifier.Classify(status, reason ?? statusName, message);
        if (kind == ProviderErrorKind.Unknown && statusName is not null)
        {
            kind = FromGrpcStatus(statusName);
        }

        var retryAfter = RetryAfterParser.Parse(retryDelay, now)
            ?? (headers is null ? null : RetryAfterParser.FromHeaders(headers, now))
            ?? RetryAfterParser.FromMessage(message);
        var text = string.IsNullOrWhiteSpace(message) ? $"{provider} failed with {statusName ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : message;
        return new ProviderException(kind, Scrub(text, apiKey), provider, httpStatus, retryAfter)
        {
            ErrorCode = reason ?? statusName,
        };
    }

    /// <summary>Builds the exception for a prompt that Gemini refused to answer at all.</summary>
    public static ProviderException Blocked(string provider, JsonObject promptFeedback)
    {
        var reason = GeminiJson.GetString(promptFeedback, "blockReason") ?? "BLOCKED";
        var detail = GeminiJson.GetString(promptFeedback, "blockReasonMessage");
        var message = detail is null
            ? $"{provider} blocked the prompt: {reason}."
            : $"{provider} blocked the prompt: {reason}. {detail}";
        return new ProviderException(ProviderErrorKind.ContentFilter, message, provider) { ErrorCode = reason };
    }

    /// <summary>Removes the key from text that came back from the server, which sometimes echoes it in debug details.</summary>
    public static string Scrub(string text, string? apiKey) =>
        string.IsNullOrEmpty(apiKey) ? text : text.Replace(apiKey, "***", StringComparison.Ordinal);

    // In-band stream errors carry gRPC codes (499 CANCELLED) that the HTTP classifier does not know.
    private static ProviderErrorKind FromGrpcStatus(string statusName) => statusName switch
    {
        "UNAVAILABLE" => ProviderErrorKind.Overloaded,
        "INTERNAL" or "UNKNOWN" or "CANCELLED" or "ABORTED" or "DATA_LOSS" => ProviderErrorKind.ServerError,
        "DEADLINE_EXCEEDED" => ProviderErrorKind.Timeout,
        "RESOURCE_EXHAUSTED" => ProviderErrorKind.RateLimit,
        "UNAUTHENTICATED" or "PERMISSION_DENIED" => ProviderErrorKind.Authentication,
        "NOT_FOUND" => ProviderErrorKind.NotFound,
        "INVALID_ARGUMENT" or "FAILED_PRECONDITION" or "OUT_OF_RANGE" => ProviderErrorKind.InvalidRequest,
        _ => ProviderErrorKind.Unknown,
    };
}
