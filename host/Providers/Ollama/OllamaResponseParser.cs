using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Ollama;

/// <summary>Reads the objects <c>/api/chat</c> answers with: a whole response, or one NDJSON line of a stream.</summary>
internal static class OllamaResponseParser
{
    // Ollama reports durations in nanoseconds; they go to UsageDetails.AdditionalCounts under their wire names.
    private static readonly string[] DurationFields = ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"];

    /// <summary>Gets the <c>error</c> text of an error object, or <see langword="null"/> when it is not one.</summary>
    public static string? ReadError(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error))
        {
            return null;
        }

        return error.ValueKind switch
        {
            JsonValueKind.String => error.GetString(),
            JsonValueKind.Object when error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String => message.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => error.GetRawText(),
        };
    }

    /// <summary>Reads the error text from an error body, JSON or not, or <see langword="null"/> when it is empty.</summary>
    public static string? ReadErrorBody(string body, out bool isJson)
    {
        isJson = false;
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (ReadError(document.RootElement) is { } message)
            {
                isJson = true;
                return message;
            }
        }
        catch (JsonException)
        {
            // Not JSON: proxies and Go's mux answer in plain text ("404 page not found").
        }

        var text = body.Trim();
        return text.Length > 500 ? text[..500] + "…" : text;
    }

    public static ChatResponse ParseResponse(JsonElement root, Func<string> newCallId)
    {
        var contents = ReadContents(root, newCallId);
        var hasToolCalls = contents.Any(c => c is FunctionCallContent);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents) { RawRepresentation = root })
        {
            ModelId = ReadString(root, "model"),
            CreatedAt = ParseTimestamp(ReadString(root, "created_at")),
            FinishReason = MapFinishReason(ReadString(root, "done_reason"), hasToolCalls),
            Usage = ReadUsage(root),
            RawRepresentation = root,
        };
    }

    /// <summary>Reads the answer text, the thinking and the tool calls of one object's <c>message</c>.</summary>
    public static List<AIContent> ReadContents(JsonElement root, Func<string> newCallId)
    {
        var contents = new List<AIContent>();
        if (!root.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
        {
            return contents;
        }

        if (ReadString(message, "thinking") is { Length: > 0 } thinking)
        {
            contents.Add(new TextReasoningContent(thinking));
        }

        if (ReadString(message, "content") is { Length: > 0 } text)
        {
            contents.Add(new TextContent(text));
        }

        if (message.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (var toolCall in toolCalls.EnumerateArray())
            {
                if (ReadToolCall(toolCall, newCallId) is { } call)
                {
                    contents.Add(call);
                }
            }
        }

        return contents;
    }

    /// <summary>Maps <c>done_reason</c>; tool calls win over whatever the server said, since Ollama reports them as <c>stop</c>.</summary>
    public static ChatFinishReason MapFinishReason(string? doneReason, bool hasToolCalls)
    {
        if (hasToolCalls)
        {
            return ChatFinishReason.ToolCalls;
        }

        // Older servers send no done_reason at all on a normal finish.
        return doneReason switch
        {
            null or "" or "stop" => ChatFinishReason.Stop,
            "length" => ChatFinishReason.Length,
            _ => new ChatFinishReason(doneReason),
        };
    }

    /// <summary>Reads the counts of the final <c>done: true</c> object, or <see langword="null"/> when it has none.</summary>
    public static UsageDetails? ReadUsage(JsonElement root)
    {
        var input = ReadLong(root, "prompt_eval_count");
        var output = ReadLong(root, "eval_count");
        AdditionalPropertiesDictionary<long>? durations = null;
        foreach (var field in DurationFields)
        {
            if (ReadLong(root, field) is { } nanoseconds)
            {
                durations ??= [];
                durations[field] = nanoseconds;
            }
        }

        if (input is null && output is null && durations is null)
        {
            return null;
        }

        return new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = output,

            // Ollama reports no total; the sum is the only total there is.
            TotalTokenCount = input is not null && output is not null ? input + output : null,
            AdditionalCounts = durations,
        };
    }

    /// <summary>Parses <c>created_at</c>, which Go writes with up to 9 fractional digits where .NET reads at most 7.</summary>
    public static DateTimeOffset? ParseTimestamp(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            if (end - dot - 1 > 7)
            {
                text = string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
            }
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : null;
    }

    public static string? ReadString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static bool ReadDone(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True;

    private static long? ReadLong(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : null;

    private static FunctionCallContent? ReadToolCall(JsonElement toolCall, Func<string> newCallId)
    {
        if (toolCall.ValueKind != JsonValueKind.Object ||
            !toolCall.TryGetProperty("function", out var function) ||
            ReadString(function, "name") is not { Length: > 0 } name)
        {
            return null;
        }

        // Servers before 0.12 send no id; every call still needs one the tool result can refer to.
        var callId = ReadString(toolCall, "id") is { Length: > 0 } id ? id : newCallId();
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (function.TryGetProperty("arguments", out var raw))
        {
            var argumentsObject = raw;
            JsonDocument? parsed = null;
            if (raw.ValueKind == JsonValueKind.String)
            {
                // Ollama itself sends an object; OpenAI-minded proxies in front of it send a JSON string.
                try
                {
                    parsed = JsonDocument.Parse(raw.GetString() ?? "{}");
                    argumentsObject = parsed.RootElement;
                }
                catch (JsonException)
                {
                    argumentsObject = default;
                }
            }

            using (parsed)
            {
                if (argumentsObject.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in argumentsObject.EnumerateObject())
                    {
                        arguments[property.Name] = property.Value.Clone();
                    }
                }
            }
        }

        return new FunctionCallContent(callId, name, arguments) { RawRepresentation = toolCall.Clone() };
    }
}
