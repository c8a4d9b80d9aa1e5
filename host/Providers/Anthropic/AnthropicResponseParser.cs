using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Reads a (non-streamed) Messages API response, and the pieces the stream parser shares with it.</summary>
internal static class AnthropicResponseParser
{
    /// <summary>Marks a <see cref="TextReasoningContent"/> that came from a <c>redacted_thinking</c> block.</summary>
    public const string RedactedThinkingKey = "redacted_thinking";

    /// <summary>The key under which the provider's own stop reason is kept (for example <c>pause_turn</c>).</summary>
    public const string StopReasonKey = "stop_reason";

    public const string StopSequenceKey = "stop_sequence";

    public static ChatResponse Parse(JsonElement root, AnthropicStructuredOutput? structured, DateTimeOffset createdAt)
    {
        var id = GetString(root, "id");
        var contents = new List<AIContent>();
        if (root.TryGetProperty("content", out var blocks) && blocks.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in blocks.EnumerateArray())
            {
                if (ParseBlock(block, structured) is { } content)
                {
                    contents.Add(content);
                }
            }
        }

        var usage = new AnthropicUsage();
        if (root.TryGetProperty("usage", out var usageElement))
        {
            usage.Update(usageElement);
        }

        var stopReason = GetString(root, "stop_reason");
        var message = new ChatMessage(ChatRole.Assistant, contents) { MessageId = id };
        var response = new ChatResponse(message)
        {
            ResponseId = id,
            ModelId = GetString(root, "model"),
            CreatedAt = createdAt,
            FinishReason = FinishReason(stopReason, contents.OfType<FunctionCallContent>().Any(), structured is not null),
            Usage = usage.HasValues ? usage.ToUsageDetails() : null,
            RawRepresentation = root,
        };

        if (stopReason is not null)
        {
            response.AdditionalProperties = new AdditionalPropertiesDictionary { [StopReasonKey] = stopReason };
            if (GetString(root, "stop_sequence") is { } stopSequence)
            {
                response.AdditionalProperties[StopSequenceKey] = stopSequence;
            }
        }

        return response;
    }

    /// <summary>Maps a stop reason; any tool call present means <see cref="ChatFinishReason.ToolCalls"/>.</summary>
    /// <remarks>
    /// <c>pause_turn</c> (a long server-tool turn the caller may resume) maps to Stop; the raw reason is kept in
    /// AdditionalProperties. A structured answer arrives as a forced <c>tool_use</c>, which is a normal stop.
    /// </remarks>
    public static ChatFinishReason? FinishReason(string? stopReason, bool hasToolCalls, bool structured)
    {
        if (hasToolCalls)
        {
            return ChatFinishReason.ToolCalls;
        }

        return stopReason switch
        {
            null => null,
            "end_turn" or "stop_sequence" or "pause_turn" => ChatFinishReason.Stop,
            "max_tokens" or "model_context_window_exceeded" => ChatFinishReason.Length,
            "tool_use" => structured ? ChatFinishReason.Stop : ChatFinishReason.ToolCalls,
            "refusal" => ChatFinishReason.ContentFilter,
            _ => new ChatFinishReason(stopReason),
        };
    }

    /// <summary>Parses a tool call's input; a malformed input is reported on the call rather than thrown.</summary>
    public static FunctionCallContent ToolCall(string? id, string name, string? inputJson)
    {
        if (string.IsNullOrWhiteSpace(inputJson))
        {
            return new FunctionCallContent(id ?? string.Empty, name, new Dictionary<string, object?>());
        }

        try
        {
            using var document = JsonDocument.Parse(inputJson);
            var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    arguments[property.Name] = property.Value.Clone();
                }
            }

            return new FunctionCallContent(id ?? string.Empty, name, arguments);
        }
        catch (JsonException ex)
        {
            return new FunctionCallContent(id ?? string.Empty, name, new Dictionary<string, object?>()) { Exception = ex };
        }
    }

    /// <summary>Turns the structured-output tool's input into the answer text, unwrapping a wrapped schema.</summary>
    public static string StructuredText(string inputJson, AnthropicStructuredOutput structured)
    {
        if (!structured.Wrapped)
        {
            return inputJson;
        }

        try
        {
            return JsonNode.Parse(inputJson)?[AnthropicStructuredOutput.WrapperProperty]?.ToJsonString() ?? "null";
        }
        catch (JsonException)
        {
            return inputJson;
        }
    }

    public static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static AIContent? ParseBlock(JsonElement block, AnthropicStructuredOutput? structured)
    {
        switch (GetString(block, "type"))
        {
            case "text":
                return GetString(block, "text") is { Length: > 0 } text ? new TextContent(text) { RawRepresentation = block } : null;
            case "tool_use":
                var name = GetString(block, "name") ?? string.Empty;
                var input = block.TryGetProperty("input", out var inputElement) ? inputElement.GetRawText() : null;
                if (structured is not null && name == structured.ToolName)
                {
                    return new TextContent(StructuredText(input ?? "{}", structured)) { RawRepresentation = block };
                }

                var call = ToolCall(GetString(block, "id"), name, input);
                call.RawRepresentation = block;
                return call;
            case "thinking":
                return new TextReasoningContent(GetString(block, "thinking") ?? string.Empty)
                {
                    ProtectedData = GetString(block, "signature"),
                    RawRepresentation = block,
                };
            case "redacted_thinking":
                return new TextReasoningContent(string.Empty)
                {
                    ProtectedData = GetString(block, "data"),
                    AdditionalProperties = new AdditionalPropertiesDictionary { [RedactedThinkingKey] = true },
                    RawRepresentation = block,
                };
            default:
                // Server tool blocks (web search and the like) have no provider-neutral form; the raw response keeps them.
                return null;
        }
    }
}
