using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Turns a provider-neutral conversation and <see cref="ChatOptions"/> into a Messages API request body.</summary>
/// <remarks>
/// The Messages API is strict where other providers are lenient (PROVIDER-QUIRKS.md): <c>system</c> is a top-level
/// field, roles must alternate user/assistant starting with user, <c>max_tokens</c> is required, text blocks must not
/// be empty, and every <c>tool_use</c> needs its <c>tool_result</c> at the start of the next user turn. Histories
/// written by other providers (or cut short) break each of these, so this builder repairs them instead of sending
/// a request that is sure to fail with a 400.
/// </remarks>
internal static class AnthropicRequestBuilder
{
    private const string User = "user";
    private const string Assistant = "assistant";
    private const string DefaultStructuredToolName = "json_response";
    private const int MinThinkingBudget = 1024;
    private static readonly string[] PassThroughFields = ["metadata", "service_tier"];

    public static AnthropicRequest Build(IEnumerable<ChatMessage> messages, ChatOptions? options, ProviderSettings settings, bool stream)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(settings);

        var model = options?.ModelId ?? settings.Model
            ?? throw new ProviderException(ProviderErrorKind.InvalidRequest, "No model is configured for this provider.", settings.Name);

        var system = new List<string>();
        if (!string.IsNullOrWhiteSpace(options?.Instructions))
        {
            system.Add(options.Instructions);
        }

        var turns = new List<Turn>();
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                var text = string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
                if (!string.IsNullOrWhiteSpace(text))
                {
                    system.Add(text);
                }

                continue;
            }

            AddMessage(turns, message);
        }

        RepairToolPairing(turns);
        if (turns.Count == 0)
        {
            throw new ProviderException(ProviderErrorKind.InvalidRequest, "The Messages API needs at least one user or assistant message.", settings.Name);
        }

        if (turns[0].Role == Assistant)
        {
            // The conversation must open with a user turn; a history that starts with the assistant (a greeting, or a
            // window cut from a longer session) gets a neutral opener rather than losing the assistant's words.
            turns.Insert(0, new Turn(User, [TextBlock("Continue.")]));
        }

        if (turns[^1].Role == Assistant)
        {
            // A trailing assistant turn is a prefill, and the API rejects a prefill that ends in white space.
            TrimTrailingWhitespace(turns[^1]);
        }

        var body = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = MaxTokens(options, settings, model),
        };

        if (system.Count > 0)
        {
            body["system"] = string.Join("\n\n", system);
        }

        var wireMessages = new JsonArray();
        foreach (var turn in turns)
        {
            var content = new JsonArray();
            foreach (var block in turn.Blocks)
            {
                content.Add(block);
            }

            wireMessages.Add(new JsonObject { ["role"] = turn.Role, ["content"] = content });
        }

        body["messages"] = wireMessages;

        AddSampling(body, options, settings);
        var structured = AddTools(body, options);
        AddThinking(body, options, settings, model);

        if (stream)
        {
            body["stream"] = true;
        }

        if (options?.AdditionalProperties is { Count: > 0 } extra)
        {
            // Only fields the Messages API knows pass through: middleware keeps its own entries in AdditionalProperties,
            // and the API rejects any unknown top-level field with a 400.
            foreach (var key in PassThroughFields)
            {
                if (extra.TryGetValue(key, out var value) && value is not null)
                {
                    body[key] = JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions);
                }
            }
        }

        return new AnthropicRequest(body, structured);
    }

    /// <summary>The default output budget when neither the call nor config.json sets one.</summary>
    /// <remarks>The original Claude 3 Haiku, Sonnet and Opus cap output at 4096 tokens; later models allow 8192 or more.</remarks>
    public static int DefaultMaxTokens(string model)
    {
        var lower = model.ToLowerInvariant();
        if (lower.StartsWith("claude-2", StringComparison.Ordinal) || lower.StartsWith("claude-instant", StringComparison.Ordinal))
        {
            return 4096;
        }

        if (lower.StartsWith("claude-3-", StringComparison.Ordinal) && lower.Length > 9 && !char.IsAsciiDigit(lower[9]))
        {
            return 4096;
        }

        return 8192;
    }

    private static int MaxTokens(ChatOptions? options, ProviderSettings settings, string model)
    {
        if (options?.MaxOutputTokens is > 0 and var fromOptions)
        {
            return fromOptions;
        }

        if (settings.GetValue("max_tokens") is { } configured &&
            int.TryParse(configured, NumberStyles.Integer, CultureInfo.InvariantCulture, out var fromConfig) && fromConfig > 0)
        {
            return fromConfig;
        }

        return DefaultMaxTokens(model);
    }

    private static void AddMessage(List<Turn> turns, ChatMessage message)
    {
        var isAssistant = message.Role == ChatRole.Assistant;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case FunctionResultContent result:
                    // Tool results travel in a user turn whatever role the caller put them in.
                    Append(turns, User, ToolResultBlock(result));
                    break;
                case FunctionCallContent call when isAssistant:
                    Append(turns, Assistant, ToolUseBlock(call));
                    break;
                case TextReasoningContent reasoning when isAssistant:
                    if (ThinkingBlock(reasoning) is { } thinking)
                    {
                        Append(turns, Assistant, thinking);
                    }

                    break;
                case TextContent text when !string.IsNullOrWhiteSpace(text.Text):
                    Append(turns, isAssistant ? Assistant : User, TextBlock(text.Text));
                    break;
                case DataContent data when MediaBlock(data.MediaType, data.Base64Data.ToString(), uri: null) is { } media:
                    Append(turns, isAssistant ? Assistant : User, media);
                    break;
                case UriContent uri when MediaBlock(uri.MediaType, base64: null, uri.Uri) is { } media:
                    Append(turns, isAssistant ? Assistant : User, media);
                    break;
                default:
                    // Empty text, reasoning in a user turn, and content kinds the API has no block for are dropped:
                    // sending them would only earn a 400.
                    break;
            }
        }
    }

    private static void Append(List<Turn> turns, string role, JsonObject block)
    {
        // Consecutive turns of one role are merged: the API requires strict user/assistant alternation.
        if (turns.Count > 0 && turns[^1].Role == role)
        {
            turns[^1].Blocks.Add(block);
        }
        else
        {
            turns.Add(new Turn(role, [block]));
        }
    }

    /// <summary>Makes every <c>tool_use</c> answered, at the start of the next user turn, and drops stray results.</summary>
    private static void RepairToolPairing(List<Turn> turns)
    {
        for (var i = 0; i < turns.Count; i++)
        {
            var turn = turns[i];
            if (turn.Role == Assistant)
            {
                var callIds = ToolUseIds(turn);
                if (callIds.Count == 0)
                {
                    continue;
                }

                if (i + 1 >= turns.Count || turns[i + 1].Role != User)
                {
                    turns.Insert(i + 1, new Turn(User, []));
                }

                var next = turns[i + 1];
                var answered = next.Blocks
                    .Where(b => Type(b) == "tool_result")
                    .Select(b => (string?)b["tool_use_id"])
                    .ToHashSet(StringComparer.Ordinal);
                foreach (var id in callIds.Where(id => !answered.Contains(id)))
                {
                    next.Blocks.Add(new JsonObject
                    {
                        ["type"] = "tool_result",
                        ["tool_use_id"] = id,
                        ["content"] = "No result was recorded for this tool call.",
                        ["is_error"] = true,
                    });
                }
            }
            else
            {
                var expected = i > 0 ? ToolUseIds(turns[i - 1]) : [];
                for (var b = 0; b < turn.Blocks.Count; b++)
                {
                    var block = turn.Blocks[b];
                    if (Type(block) == "tool_result" && !expected.Contains((string?)block["tool_use_id"] ?? string.Empty))
                    {
                        // A result whose call is not in the previous turn (the call was trimmed away) is rejected
                        // as an unknown tool_use_id; keep what it said as plain text instead.
                        turn.Blocks[b] = TextBlock($"[Result of tool call {(string?)block["tool_use_id"]}]: {ToolResultText(block)}");
                    }
                }

                // tool_result blocks must come before any other block in their user turn.
                var ordered = turn.Blocks.Where(b => Type(b) == "tool_result").Concat(turn.Blocks.Where(b => Type(b) != "tool_result")).ToList();
                turn.Blocks.Clear();
                turn.Blocks.AddRange(ordered);
            }
        }

        turns.RemoveAll(t => t.Blocks.Count == 0);
        for (var i = turns.Count - 1; i > 0; i--)
        {
            if (turns[i].Role == turns[i - 1].Role)
            {
                turns[i - 1].Blocks.AddRange(turns[i].Blocks);
                turns.RemoveAt(i);
            }
        }
    }

    private static HashSet<string> ToolUseIds(Turn turn) =>
        turn.Role == Assistant
            ? turn.Blocks.Where(b => Type(b) == "tool_use").Select(b => (string?)b["id"] ?? string.Empty).ToHashSet(StringComparer.Ordinal)
            : [];

    private static string? Type(JsonObject block) => (string?)block["type"];

    private static string ToolResultText(JsonObject block) => block["content"] switch
    {
        JsonValue value => (string?)value ?? string.Empty,
        JsonArray array => string.Join("\n", array.OfType<JsonObject>().Where(b => Type(b) == "text").Select(b => (string?)b["text"])),
        _ => string.Empty,
    };

    private static void TrimTrailingWhitespace(Turn turn)
    {
        if (turn.Blocks[^1] is { } last && Type(last) == "text")
        {
            last["text"] = ((string?)last["text"])?.TrimEnd();
        }
    }

    private static JsonObject TextBlock(string text) => new() { ["type"] = "text", ["text"] = text };

    private static JsonObject ToolUseBlock(FunctionCallContent call)
    {
        var input = call.Arguments is null
            ? new JsonObject()
            : JsonSerializer.SerializeToNode(call.Arguments, AIJsonUtilities.DefaultOptions) as JsonObject ?? [];
        return new JsonObject
        {
            ["type"] = "tool_use",
            ["id"] = AnthropicToolCallIds.Normalize(call.CallId),
            ["name"] = call.Name,
            ["input"] = input,
        };
    }

    private static JsonObject ToolResultBlock(FunctionResultContent result)
    {
        var block = new JsonObject
        {
            ["type"] = "tool_result",
            ["tool_use_id"] = AnthropicToolCallIds.Normalize(result.CallId),
        };

        var content = ToolResultContent(result.Result);
        if (content is null && result.Exception is { } exception)
        {
            content = exception.Message;
        }

        if (content is not null)
        {
            block["content"] = content;
        }

        if (result.Exception is not null)
        {
            block["is_error"] = true;
        }

        return block;
    }

    private static JsonNode? ToolResultContent(object? result)
    {
        switch (result)
        {
            case null:
                return null;
            case string text:
                return text.Length == 0 ? null : text;
            case JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return null;
            case JsonElement { ValueKind: JsonValueKind.String } element:
                return element.GetString() is { Length: > 0 } s ? s : null;
            case JsonElement element:
                return element.GetRawText();
            case AIContent single:
                return ToolResultContent(new[] { single });
            case IEnumerable<AIContent> contents:
                var blocks = new JsonArray();
                foreach (var content in contents)
                {
                    var block = content switch
                    {
                        TextContent t when !string.IsNullOrWhiteSpace(t.Text) => TextBlock(t.Text),
                        DataContent d => MediaBlock(d.MediaType, d.Base64Data.ToString(), uri: null),
                        UriContent u => MediaBlock(u.MediaType, base64: null, u.Uri),
                        _ => null,
                    };
                    if (block is not null)
                    {
                        blocks.Add(block);
                    }
                }

                return blocks.Count > 0 ? blocks : null;
            default:
                return JsonSerializer.Serialize(result, result.GetType(), AIJsonUtilities.DefaultOptions);
        }
    }

    private static JsonObject? ThinkingBlock(TextReasoningContent reasoning)
    {
        // Only Anthropic's own thinking, which carries its signature, can be sent back; reasoning text from another
        // provider (or without a signature) would be rejected, so it is dropped.
        var signature = reasoning.ProtectedData;
        if (string.IsNullOrEmpty(signature) && reasoning.AdditionalProperties?.TryGetValue("signature", out var value) == true)
        {
            signature = value as string ?? (value is JsonElement { ValueKind: JsonValueKind.String } element ? element.GetString() : null);
        }

        if (string.IsNullOrEmpty(signature))
        {
            return null;
        }

        var redacted = reasoning.AdditionalProperties?.TryGetValue(AnthropicResponseParser.RedactedThinkingKey, out var flag) == true && flag is true;
        if (redacted || string.IsNullOrEmpty(reasoning.Text))
        {
            return new JsonObject { ["type"] = "redacted_thinking", ["data"] = signature };
        }

        return new JsonObject { ["type"] = "thinking", ["thinking"] = reasoning.Text, ["signature"] = signature };
    }

    private static JsonObject? MediaBlock(string? mediaType, string? base64, Uri? uri)
    {
        if (mediaType is null)
        {
            return null;
        }

        var kind = mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) ? "image"
            : mediaType.Equals("application/pdf", StringComparison.OrdinalIgnoreCase) ? "document"
            : null;
        if (kind is null)
        {
            return null;
        }

        JsonObject source = base64 is not null
            ? new() { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = base64 }
            : new() { ["type"] = "url", ["url"] = uri!.AbsoluteUri };
        return new JsonObject { ["type"] = kind, ["source"] = source };
    }

    private static void AddSampling(JsonObject body, ChatOptions? options, ProviderSettings settings)
    {
        if ((options?.Temperature is { } fromOptions ? ToDouble(fromOptions) : settings.Temperature) is { } temperature)
        {
            // Anthropic accepts 0..1; a temperature meant for OpenAI's 0..2 scale (a fallback from another provider)
            // would fail with a 400, so it is clamped.
            body["temperature"] = Math.Clamp(temperature, 0, 1);
        }

        if (options?.TopP is { } topP && !body.ContainsKey("temperature"))
        {
            // Recent models reject temperature and top_p together; Anthropic advises setting only one.
            body["top_p"] = ToDouble(topP);
        }

        if (options?.TopK is { } topK)
        {
            body["top_k"] = topK;
        }

        if (options?.StopSequences is { Count: > 0 } stops)
        {
            var sequences = new JsonArray();
            foreach (var stop in stops.Where(s => !string.IsNullOrWhiteSpace(s)))
            {
                sequences.Add(stop);
            }

            if (sequences.Count > 0)
            {
                body["stop_sequences"] = sequences;
            }
        }
    }

    // A float such as 0.3f widens to 0.30000001192092896; going through decimal keeps the value the caller wrote.
    private static double ToDouble(float value) => (double)(decimal)value;

    /// <summary>Adds tool definitions, <c>tool_choice</c>, and the tool that carries a structured answer.</summary>
    /// <remarks>
    /// The Messages API has no <c>response_format</c>. The standard way to get JSON that matches a schema, as
    /// Anthropic documents it ("JSON mode" in the tool-use guide), is a tool whose <c>input_schema</c> is the schema,
    /// forced with <c>tool_choice: {type: "tool"}</c>; the tool's <c>input</c> is then the answer, which the
    /// response parsers turn back into answer text. A schema that is not an object (tool input must be one) is
    /// wrapped in <c>{"value": …}</c> and unwrapped on the way back. Plain JSON mode uses an open object schema.
    /// </remarks>
    private static AnthropicStructuredOutput? AddTools(JsonObject body, ChatOptions? options)
    {
        var tools = new JsonArray();
        foreach (var function in options?.Tools?.OfType<AIFunctionDeclaration>() ?? [])
        {
            var tool = new JsonObject
            {
                ["name"] = function.Name,
                ["input_schema"] = InputSchema(function.JsonSchema),
            };
            if (!string.IsNullOrWhiteSpace(function.Description))
            {
                tool["description"] = function.Description;
            }

            tools.Add(tool);
        }

        var hasUserTools = tools.Count > 0;
        AnthropicStructuredOutput? structured = null;
        if (options?.ResponseFormat is ChatResponseFormatJson json)
        {
            var wrapped = false;
            JsonObject schema;
            if (json.Schema is { } given)
            {
                var node = JsonNode.Parse(given.GetRawText());
                if (node is JsonObject obj && IsObjectSchema(obj))
                {
                    schema = obj;
                }
                else
                {
                    wrapped = true;
                    schema = new JsonObject
                    {
                        ["type"] = "object",
                        ["properties"] = new JsonObject { [AnthropicStructuredOutput.WrapperProperty] = node },
                        ["required"] = new JsonArray(AnthropicStructuredOutput.WrapperProperty),
                    };
                }
            }
            else
            {
                schema = new JsonObject { ["type"] = "object", ["additionalProperties"] = true };
            }

            var name = ToolName(json.SchemaName);
            structured = new AnthropicStructuredOutput(name, wrapped);
            tools.Add(new JsonObject
            {
                ["name"] = name,
                ["description"] = json.SchemaDescription
                    ?? "Give your final answer by calling this tool; its input is the answer, as JSON matching the schema.",
                ["input_schema"] = schema,
            });
        }

        if (tools.Count == 0)
        {
            return null;
        }

        body["tools"] = tools;

        JsonObject choice = options?.ToolMode switch
        {
            RequiredChatToolMode { RequiredFunctionName: { } name } => new() { ["type"] = "tool", ["name"] = name },
            RequiredChatToolMode => new() { ["type"] = "any" },
            NoneChatToolMode when structured is null => new() { ["type"] = "none" },
            _ when structured is not null && hasUserTools => new() { ["type"] = "any" },
            _ when structured is not null => new() { ["type"] = "tool", ["name"] = structured.ToolName },
            _ => new() { ["type"] = "auto" },
        };

        if (options?.AllowMultipleToolCalls == false && (string?)choice["type"] != "none")
        {
            choice["disable_parallel_tool_use"] = true;
        }

        var isDefault = (string?)choice["type"] == "auto" && choice.Count == 1;
        if (!isDefault)
        {
            body["tool_choice"] = choice;
        }

        return structured;
    }

    private static bool IsObjectSchema(JsonObject schema) =>
        schema["type"] is JsonValue type ? (string?)type == "object" : schema.ContainsKey("properties");

    private static JsonObject InputSchema(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
        }

        var node = JsonNode.Parse(schema.GetRawText())!.AsObject();

        // input_schema must say type: object; a parameterless function's schema often says nothing.
        node.TryAdd("type", "object");
        return node;
    }

    private static string ToolName(string? schemaName)
    {
        if (string.IsNullOrWhiteSpace(schemaName))
        {
            return DefaultStructuredToolName;
        }

        var builder = new StringBuilder(schemaName.Length);
        foreach (var c in schemaName)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return builder.Length > 64 ? builder.ToString(0, 64) : builder.ToString();
    }

    private static void AddThinking(JsonObject body, ChatOptions? options, ProviderSettings settings, string model)
    {
        int? budget = null;
        if (settings.GetValue("thinking_budget") is { } configured &&
            int.TryParse(configured, NumberStyles.Integer, CultureInfo.InvariantCulture, out var fromConfig))
        {
            budget = fromConfig;
        }

        if (options?.Reasoning?.Effort is { } effort)
        {
            budget = effort switch
            {
                ReasoningEffort.None => 0,
                ReasoningEffort.Low => 2048,
                ReasoningEffort.Medium => 8192,
                ReasoningEffort.High => 16384,
                _ => 32000,
            };
        }

        if (budget is not > 0)
        {
            return;
        }

        // Extended thinking cannot be combined with a forced tool choice (which structured output uses), and
        // requires temperature 1 with no top_k; the thinking budget must fit inside max_tokens.
        var choiceType = (string?)body["tool_choice"]?["type"];
        if (choiceType is "any" or "tool")
        {
            return;
        }

        var thinkingBudget = Math.Max(MinThinkingBudget, budget.Value);
        body["thinking"] = new JsonObject { ["type"] = "enabled", ["budget_tokens"] = thinkingBudget };
        body.Remove("temperature");
        body.Remove("top_k");
        body.Remove("top_p");
        if ((int)body["max_tokens"]! <= thinkingBudget)
        {
            body["max_tokens"] = thinkingBudget + DefaultMaxTokens(model);
        }
    }

    private sealed record Turn(string Role, List<JsonObject> Blocks);
}
