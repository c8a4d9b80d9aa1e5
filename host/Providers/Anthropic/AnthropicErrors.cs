using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Http;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Builds <see cref="ProviderException"/>s from Anthropic's error bodies and in-band <c>error</c> events.</summary>
/// <remarks>Errors look like <c>{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}</c>.</remarks>
internal static class AnthropicErrors
{
    private const int MaxBodySnippet = 200;

    public static async Task<ProviderException> FromResponseAsync(
        HttpResponseMessage response,
        string provider,
        string? apiKey,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (HttpErrorClassifier.Redirect(provider, status, response.Headers, response.RequestMessage?.RequestUri) is { } moved)
        {
            return moved;
        }

        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            body = string.Empty;
        }

        var (type, message) = Read(body);
        message ??= string.IsNullOrWhiteSpace(body)
            ? $"{provider} answered HTTP {status} {response.ReasonPhrase}."
            : $"{provider} answered HTTP {status}: {Snippet(body)}";

        var retryAfter = RetryAfterParser.FromHeaders(response.Headers, now) ?? RetryAfterParser.FromMessage(message);
        return new ProviderException(
            HttpErrorClassifier.Classify(status, type, message),
            Scrub(message, apiKey),
            provider,
            status,
            retryAfter)
        {
            ErrorCode = type,
        };
    }

    /// <summary>Builds the exception for an <c>error</c> event inside an HTTP 200 stream.</summary>
    /// <remarks>
    /// No status comes with it, so the error type is classified as the status Anthropic gives that type over HTTP.
    /// Once content reached the caller the answer is incomplete whatever the cause: TruncatedStream.
    /// </remarks>
    public static ProviderException FromEvent(JsonElement error, string provider, string? apiKey, bool hasContent, string partialText)
    {
        var type = AnthropicResponseParser.GetString(error, "type");
        var message = Scrub(AnthropicResponseParser.GetString(error, "message") ?? type ?? "Unknown error.", apiKey);
        var kind = HttpErrorClassifier.Classify(StatusOf(type), type, message);
        if (hasContent)
        {
            return new ProviderException(
                ProviderErrorKind.TruncatedStream,
                $"The answer from {provider} broke off: {message} ({type ?? "error"}, {kind}).",
                provider)
            {
                ErrorCode = type,
                PartialText = partialText,
            };
        }

        return new ProviderException(kind, message, provider) { ErrorCode = type };
    }

    public static (string? Type, string? Message) Read(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        try
        {
            var root = JsonElement.Parse(body);
            var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var inner) ? inner : root;
            return (AnthropicResponseParser.GetString(error, "type"), AnthropicResponseParser.GetString(error, "message"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>Removes the key from text that could echo it (a proxy's error page, say): it must never reach output.</summary>
    public static string Scrub(string text, string? apiKey) =>
        string.IsNullOrEmpty(apiKey) ? text : text.Replace(apiKey, "[redacted]", StringComparison.Ordinal);

    private static int StatusOf(string? type) => type switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };

    private static string Snippet(string body)
    {
        var flat = body.ReplaceLineEndings(" ").Trim();
        return flat.Length <= MaxBodySnippet ? flat : flat[..MaxBodySnippet] + "…";
    }
}
