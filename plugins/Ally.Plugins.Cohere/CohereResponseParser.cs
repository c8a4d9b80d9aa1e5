using Ally.Abstractions;
using Microsoft.Extensions.AI;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Ally.Plugins.Cohere;

/// <summary>Reads Cohere v2 chat responses: the whole answer, finish reasons, usage and tool calls.</summary>
internal static class CohereResponseParser
{
    public static ChatResponse Parse(JObject body, string provider, string model, DateTimeOffset createdAt)
    {
        var message = body["message"] as JObject;
        var contents = new List<AIContent>();

        if (CohereJson.String(message, "tool_plan") is { Length: > 0 } plan)
        {
            contents.Add(new TextReasoningContent(plan) { RawRepresentation = plan });
        }

        if (message?["content"] is JArray parts)
        {
            foreach (var part in parts.OfType<JObject>())
            {
                switch (CohereJson.String(part, "type"))
                {
                    case "text" when CohereJson.String(part, "text") is { } text:
                        contents.Add(new TextContent(text) { RawRepresentation = part });
                        break;
                    case "thinking" when CohereJson.String(part, "thinking") is { } thinking:
                        contents.Add(new TextReasoningContent(thinking) { RawRepresentation = part });
                        break;
                    default:
                        break;
                }
            }
        }
        else if (CohereJson.String(message, "content") is { Length: > 0 } text)
        {
            contents.Add(new TextContent(text));
        }

        var hasToolCalls = false;
        if (message?["tool_calls"] is JArray calls)
        {
            foreach (var call in calls.OfType<JObject>())
            {
                var function = call["function"] as JObject;
                contents.Add(ToolCall(CohereJson.String(call, "id"), CohereJson.String(function, "name"), CohereJson.String(function, "arguments"), call));
                hasToolCalls = true;
            }
        }

        var finishReason = CohereJson.String(body, "finish_reason");
        if (Failure(finishReason, provider, Text(contents), afterFirstPiece: false) is { } failure)
        {
            throw failure;
        }

        var id = CohereJson.String(body, "id");
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents) { MessageId = id, RawRepresentation = message })
        {
            ResponseId = id,
            ModelId = model,
            CreatedAt = createdAt,
            FinishReason = hasToolCalls ? ChatFinishReason.ToolCalls : MapFinishReason(finishReason),
            Usage = ParseUsage(body["usage"]),
            RawRepresentation = body,
        };
    }

    /// <summary>Maps Cohere's finish reason; <c>ERROR</c> and <c>TIMEOUT</c> are failures, see <see cref="Failure"/>.</summary>
    public static ChatFinishReason? MapFinishReason(string? finishReason) => finishReason switch
    {
        null or "" => null,
        "COMPLETE" or "STOP_SEQUENCE" => ChatFinishReason.Stop,
        "MAX_TOKENS" => ChatFinishReason.Length,
        "TOOL_CALL" => ChatFinishReason.ToolCalls,
        _ => new ChatFinishReason(finishReason.ToLowerInvariant()),
    };

    /// <summary>Turns the finish reasons that mean the generation failed into an exception, or returns null.</summary>
    /// <remarks>
    /// Cohere ends a generation that failed on its side with <c>ERROR</c> or <c>TIMEOUT</c> in an HTTP 200; the
    /// answer is then incomplete, which a router must see as a failure rather than as a finished answer.
    /// </remarks>
    public static ProviderException? Failure(string? finishReason, string provider, string partialText, bool afterFirstPiece)
    {
        var (kind, what) = finishReason switch
        {
            "ERROR" => (ProviderErrorKind.ServerError, "failed while generating the answer (finish_reason ERROR)"),
            "TIMEOUT" => (ProviderErrorKind.Timeout, "timed out while generating the answer (finish_reason TIMEOUT)"),
            _ => (ProviderErrorKind.Unknown, null),
        };

        if (what is null)
        {
            return null;
        }

        if (afterFirstPiece)
        {
            return new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {provider} broke off: {provider} {what}.", provider)
            {
                ErrorCode = finishReason,
                PartialText = partialText,
            };
        }

        return new ProviderException(kind, $"{provider} {what}.", provider)
        {
            ErrorCode = finishReason,
            PartialText = partialText.Length > 0 ? partialText : null,
        };
    }

    /// <summary>Reads usage, preferring billed units: they are what Cohere charges, and prices apply to them.</summary>
    /// <remarks>
    /// <c>tokens</c> also counts the prompt template Cohere wraps around the messages; it is kept in
    /// <see cref="UsageDetails.AdditionalCounts"/>. Cohere reports no total, so the total is input + output.
    /// </remarks>
    public static UsageDetails? ParseUsage(JToken? usage)
    {
        if (usage is not JObject usageObject)
        {
            return null;
        }

        var billed = usageObject["billed_units"] as JObject;
        var tokens = usageObject["tokens"] as JObject;
        var input = CohereJson.Long(billed, "input_tokens") ?? CohereJson.Long(tokens, "input_tokens");
        var output = CohereJson.Long(billed, "output_tokens") ?? CohereJson.Long(tokens, "output_tokens");
        var details = new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = input is null && output is null ? null : (input ?? 0) + (output ?? 0),
            CachedInputTokenCount = CohereJson.Long(usageObject, "cached_tokens"),
        };

        AddCount(details, "cohere.tokens.input_tokens", CohereJson.Long(tokens, "input_tokens"));
        AddCount(details, "cohere.tokens.output_tokens", CohereJson.Long(tokens, "output_tokens"));
        return details;
    }

    public static FunctionCallContent ToolCall(string? id, string? name, string? arguments, object? raw)
    {
        var call = FunctionCallContent.CreateFromParsedArguments(
            arguments ?? string.Empty,
            id ?? string.Empty,
            name ?? string.Empty,
            ParseArguments);
        call.RawRepresentation = raw;
        return call;
    }

    public static string Text(IEnumerable<AIContent> contents) =>
        string.Concat(contents.OfType<TextContent>().Select(t => t.Text));

    private static Dictionary<string, object?>? ParseArguments(string arguments)
    {
        // A tool without parameters can come back with "" rather than "{}".
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return [];
        }

        if (CohereJson.Parse(arguments) is not JObject parsed)
        {
            throw new JsonReaderException("The tool call arguments are not a JSON object.");
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in parsed.Properties())
        {
            result[property.Name] = CohereJson.ToJsonElement(property.Value);
        }

        return result;
    }

    private static void AddCount(UsageDetails details, string name, long? value)
    {
        if (value is { } count)
        {
            (details.AdditionalCounts ??= [])[name] = count;
        }
    }
}
