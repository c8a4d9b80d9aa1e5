using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Reads a whole <c>chat.completion</c> body, and the pieces of it that streamed chunks share.</summary>
internal static class OpenAIResponseParser
{
    public static ChatResponse ParseCompletion(JsonElement root)
    {
        var message = new ChatMessage(ChatRole.Assistant, new List<AIContent>());
        ChatFinishReason? finishReason = null;

        if (FirstChoice(root) is { } choice)
        {
            if (choice.TryGetProperty("message", out var wire) && wire.ValueKind == JsonValueKind.Object)
            {
                ReadMessage(wire, message.Contents);
            }

            finishReason = MapFinishReason(GetString(choice, "finish_reason"));
        }

        // A forced tool_choice can come back with finish_reason "stop": tool calls are found by their presence.
        if (message.Contents.Any(c => c is FunctionCallContent))
        {
            finishReason = ChatFinishReason.ToolCalls;
        }

        var id = GetString(root, "id");
        message.MessageId = id;
        return new ChatResponse(message)
        {
            ResponseId = id,
            ModelId = GetString(root, "model"),
            CreatedAt = GetCreated(root),
            FinishReason = finishReason,
            Usage = ParseUsage(root),
            RawRepresentation = root.Clone(),
        };
    }

    /// <summary>Gets the choice with index 0 (Ally asks for one), or the first one when none says its index.</summary>
    public static JsonElement? FirstChoice(JsonElement root)
    {
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return null;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            if (!choice.TryGetProperty("index", out var index) || index.ValueKind != JsonValueKind.Number || index.GetInt32() == 0)
            {
                return choice;
            }
        }

        return null;
    }

    /// <summary>
    /// Reads usage from wherever the server put it: <c>usage</c> on the final or finish chunk, or Groq's
    /// <c>x_groq.usage</c>. Counts are read as reported, never computed, except a missing total and xAI's output,
    /// which gets its reasoning tokens added (see PROVIDER-QUIRKS.md).
    /// </summary>
    public static UsageDetails? ParseUsage(JsonElement root)
    {
        if (!root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            if (!root.TryGetProperty("x_groq", out var groq) || groq.ValueKind != JsonValueKind.Object ||
                !groq.TryGetProperty("usage", out usage) || usage.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
        }

        var input = GetLong(usage, "prompt_tokens");
        var output = GetLong(usage, "completion_tokens");

        // xAI counts reasoning tokens outside completion_tokens, so total is not always input + output.
        var total = GetLong(usage, "total_tokens") ?? (input is null && output is null ? null : (input ?? 0) + (output ?? 0));

        var cached = usage.TryGetProperty("prompt_tokens_details", out var promptDetails) && promptDetails.ValueKind == JsonValueKind.Object
            ? GetLong(promptDetails, "cached_tokens")
            : null;

        // DeepSeek's own name for cached input, when it sends no prompt_tokens_details.
        cached ??= GetLong(usage, "prompt_cache_hit_tokens");

        var reasoning = usage.TryGetProperty("completion_tokens_details", out var completionDetails) && completionDetails.ValueKind == JsonValueKind.Object
            ? GetLong(completionDetails, "reasoning_tokens")
            : null;

        // xAI's total is prompt + completion + reasoning: its reasoning tokens are billed as output but left out of
        // completion_tokens. Put them in, as OpenAI does and as UsageDetails.ReasoningTokenCount is defined, so that
        // cost and usage read one meaning; OpenAI's total is prompt + completion, and nothing is added there.
        if (reasoning is > 0 && output is { } completion && total == (input ?? 0) + completion + reasoning)
        {
            output = completion + reasoning;
        }

        return new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = total,
            CachedInputTokenCount = cached,
            ReasoningTokenCount = reasoning,
        };
    }

    public static ChatFinishReason? MapFinishReason(string? reason) => reason switch
    {
        null or "" => null,
        "stop" or "end_turn" or "eos" => ChatFinishReason.Stop,
        "length" or "max_tokens" or "model_length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" or "tool_use" => ChatFinishReason.ToolCalls,
        "content_filter" or "safety" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason),
    };

    /// <summary>
    /// Creates a call from its JSON-string arguments. Arguments that are not valid JSON leave the call with its
    /// <see cref="FunctionCallContent.Exception"/> set, as MEAI does, so the tool loop can tell the model.
    /// </summary>
    public static FunctionCallContent CreateFunctionCall(string callId, string name, string? arguments) =>
        FunctionCallContent.CreateFromParsedArguments(arguments ?? string.Empty, callId, name, ParseArguments);

    /// <summary>Reads text and reasoning of a <c>content</c> or <c>reasoning_content</c> value: a string, null, or an array of parts.</summary>
    public static void ReadContentValue(JsonElement content, StringBuilder text, StringBuilder reasoning)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                text.Append(content.GetString());
                break;
            case JsonValueKind.Array:
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        text.Append(part.GetString());
                        continue;
                    }

                    var type = GetString(part, "type");
                    if (type is "text" or "output_text" && GetString(part, "text") is { } partText)
                    {
                        text.Append(partText);
                    }
                    else if (type is "thinking" or "reasoning" && part.TryGetProperty("thinking", out var thinking))
                    {
                        // Mistral's magistral models stream {"type":"thinking","thinking":[{"type":"text","text":...}]}.
                        ReadContentValue(thinking, reasoning, reasoning);
                    }
                }

                break;
            default:
                break;
        }
    }

    /// <summary>Gets the reasoning text of a message or delta: DeepSeek's <c>reasoning_content</c> or the <c>reasoning</c> of OpenRouter, vLLM and Groq.</summary>
    public static string? GetReasoning(JsonElement messageOrDelta)
    {
        // Some servers send both fields with the same text; take one so it is never shown twice.
        var reasoning = GetString(messageOrDelta, "reasoning_content");
        return string.IsNullOrEmpty(reasoning) ? GetString(messageOrDelta, "reasoning") : reasoning;
    }

    /// <summary>Gets the arguments of a tool call as text: normally a JSON string, but some servers send an object.</summary>
    public static string? GetArguments(JsonElement function) =>
        function.TryGetProperty("arguments", out var arguments)
            ? arguments.ValueKind switch
            {
                JsonValueKind.String => arguments.GetString(),
                JsonValueKind.Object or JsonValueKind.Array => arguments.GetRawText(),
                _ => null,
            }
            : null;

    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    public static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static DateTimeOffset? GetCreated(JsonElement root) =>
        root.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var seconds) && seconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private static void ReadMessage(JsonElement wire, IList<AIContent> contents)
    {
        var text = new StringBuilder();
        var reasoning = new StringBuilder(GetReasoning(wire) ?? string.Empty);
        if (wire.TryGetProperty("content", out var content))
        {
            ReadContentValue(content, text, reasoning);
        }

        if (text.Length == 0 && GetString(wire, "refusal") is { Length: > 0 } refusal)
        {
            text.Append(refusal);
        }

        if (reasoning.Length > 0)
        {
            contents.Add(new TextReasoningContent(reasoning.ToString()));
        }

        if (text.Length > 0)
        {
            contents.Add(new TextContent(text.ToString()));
        }

        if (wire.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in toolCalls.EnumerateArray())
            {
                if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var id = GetString(call, "id");
                contents.Add(CreateFunctionCall(
                    string.IsNullOrEmpty(id) ? NewCallId() : id,
                    GetString(function, "name") ?? string.Empty,
                    GetArguments(function)));
            }
        }

        // The legacy functions API answers with one message.function_call and no id.
        if (wire.TryGetProperty("function_call", out var functionCall) && functionCall.ValueKind == JsonValueKind.Object)
        {
            contents.Add(CreateFunctionCall(NewCallId(), GetString(functionCall, "name") ?? string.Empty, GetArguments(functionCall)));
        }
    }

    private static Dictionary<string, object?>? ParseArguments(string arguments)
    {
        // The first streamed fragment is often "" and a call without parameters may arrive as "" or "null".
        if (string.IsNullOrWhiteSpace(arguments) || arguments.Trim() == "null")
        {
            return [];
        }

        using var document = JsonDocument.Parse(arguments);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("Tool call arguments are not a JSON object.");
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            result[property.Name] = property.Value.Clone();
        }

        return result;
    }

    private static long? GetLong(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        return value.TryGetInt64(out var number) ? number : (long)value.GetDouble();
    }
}
