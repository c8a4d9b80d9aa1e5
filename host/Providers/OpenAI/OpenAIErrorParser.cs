using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ally.Abstractions;
using Ally.Host.Providers.Http;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Turns OpenAI-style error bodies, from an HTTP error or from inside a 200 stream, into a <see cref="ProviderException"/>.</summary>
internal static partial class OpenAIErrorParser
{
    private const int MaxSnippetLength = 500;

    /// <summary>The parts of an error body that matter: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
    public readonly record struct ErrorInfo(string? Message, string? Code, string? Type, int? NumericCode);

    /// <summary>Classifies a failed HTTP response from its status, headers and (possibly pretty-printed) body.</summary>
    public static ProviderException FromResponse(
        string provider,
        HttpStatusCode status,
        string? reasonPhrase,
        HttpResponseHeaders headers,
        string body,
        DateTimeOffset now,
        string? apiKey)
    {
        var statusCode = (int)status;
        var info = TryParse(body) ?? default;
        var message = info.Message ?? Fallback(statusCode, reasonPhrase, body);
        var kind = Classify(statusCode, info.Code, message);

        TimeSpan? retryAfter = null;
        if (statusCode == 429 || statusCode >= 500)
        {
            retryAfter = RetryAfterParser.FromHeaders(headers, now) ?? RetryAfterParser.FromMessage(message);
        }

        return new ProviderException(kind, Redact(message, apiKey), provider, statusCode, retryAfter)
        {
            ErrorCode = info.Code,
        };
    }

    /// <summary>Classifies an <c>error</c> object that arrived with HTTP 200 (in a stream or a plain body).</summary>
    public static ProviderException FromInBand(string provider, ErrorInfo info, string? apiKey)
    {
        var message = info.Message ?? "The provider reported an error without a message.";

        // OpenRouter puts the upstream HTTP status in error.code; without one, an in-band error is a server failure.
        var status = info.NumericCode is >= 400 and < 600 ? info.NumericCode.Value : 500;
        var kind = Classify(status, info.Code, message);
        return new ProviderException(kind, Redact(message, apiKey), provider, info.NumericCode, RetryAfterParser.FromMessage(message))
        {
            ErrorCode = info.Code,
        };
    }

    /// <summary>Reads the error out of a body, or returns <see langword="null"/> when it holds none.</summary>
    public static ErrorInfo? TryParse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return TryParse(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads the error out of a parsed body or chunk, or returns <see langword="null"/> when it holds none.</summary>
    public static ErrorInfo? TryParse(JsonElement root)
    {
        // Google's OpenAI-compatible endpoint wraps the error in an array.
        if (root.ValueKind == JsonValueKind.Array)
        {
            return root.GetArrayLength() > 0 ? TryParse(root[0]) : null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (root.TryGetProperty("error", out var error))
        {
            return error.ValueKind switch
            {
                JsonValueKind.Object => new ErrorInfo(
                    GetString(error, "message"),
                    GetCode(error, out var numeric),
                    GetString(error, "type"),
                    numeric),

                // Ollama, vLLM and llama.cpp's OpenAI layers sometimes send {"error": "text"}.
                JsonValueKind.String => new ErrorInfo(error.GetString(), null, null, null),
                _ => null,
            };
        }

        // FastChat-style servers put the fields at the top level: {"object": "error", "message", "code"}.
        if (root.TryGetProperty("object", out var obj) && obj.ValueKind == JsonValueKind.String && obj.GetString() == "error")
        {
            return new ErrorInfo(GetString(root, "message"), GetCode(root, out var numeric), GetString(root, "type"), numeric);
        }

        return null;
    }

    public static ProviderErrorKind Classify(int status, string? code, string? message)
    {
        // An OpenAI rate limit can come back in-band with status 200; its code is the only hint.
        if (status < 400 || status >= 500)
        {
            if (string.Equals(code, "rate_limit_exceeded", StringComparison.OrdinalIgnoreCase))
            {
                return ProviderErrorKind.RateLimit;
            }
        }

        return HttpErrorClassifier.Classify(status, code, message);
    }

    /// <summary>Removes the key, and OpenAI's masked echo of it, from text that will become an exception message.</summary>
    public static string Redact(string text, string? apiKey)
    {
        if (!string.IsNullOrEmpty(apiKey) && apiKey.Length >= 4)
        {
            text = text.Replace(apiKey, "***", StringComparison.Ordinal);
        }

        // "Incorrect API key provided: sk-proj-********************abcd." shows a prefix and suffix of the key.
        return MaskedKey().Replace(text, "***");
    }

    private static string Fallback(int status, string? reasonPhrase, string body)
    {
        var snippet = body.Trim();
        if (snippet.Length > MaxSnippetLength)
        {
            snippet = snippet[..MaxSnippetLength] + "…";
        }

        var head = $"HTTP {status} {reasonPhrase}".TrimEnd();
        return snippet.Length > 0 ? $"{head}: {snippet}" : head;
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? GetCode(JsonElement element, out int? numeric)
    {
        numeric = null;
        if (!element.TryGetProperty("code", out var code))
        {
            return null;
        }

        switch (code.ValueKind)
        {
            case JsonValueKind.String:
                var text = code.GetString();
                if (int.TryParse(text, out var parsed))
                {
                    numeric = parsed;
                }

                return text;
            case JsonValueKind.Number when code.TryGetInt32(out var number):
                numeric = number;
                return number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            default:
                return null;
        }
    }

    [GeneratedRegex(@"[A-Za-z0-9_\-]*\*{4,}[A-Za-z0-9_\-]*")]
    private static partial Regex MaskedKey();
}
