using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Gemini;

/// <summary>Builds the JSON body of a <c>generateContent</c> request from MEAI messages and options.</summary>
internal static class GeminiRequestBuilder
{
    public static JsonObject Build(IEnumerable<ChatMessage> messages, ChatOptions? options, ProviderSettings settings)
    {
        var history = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var body = new JsonObject();

        if (BuildSystemInstruction(history, options) is { } systemInstruction)
        {
            body["systemInstruction"] = systemInstruction;
        }

        body["contents"] = BuildContents(history);

        if (BuildTools(options) is { } tools)
        {
            body["tools"] = tools;
            if (BuildToolConfig(options!.ToolMode) is { } toolConfig)
            {
                body["toolConfig"] = toolConfig;
            }
        }

        body["generationConfig"] = BuildGenerationConfig(options, settings);
        return body;
    }

    private static JsonObject? BuildSystemInstruction(IReadOnlyList<ChatMessage> history, ChatOptions? options)
    {
        var parts = new JsonArray();
        if (!string.IsNullOrWhiteSpace(options?.Instructions))
        {
            parts.Add(new JsonObject { ["text"] = options.Instructions });
        }

        foreach (var message in history)
        {
            if (message.Role == ChatRole.System && !string.IsNullOrWhiteSpace(message.Text))
            {
                parts.Add(new JsonObject { ["text"] = message.Text });
            }
        }

        return parts.Count == 0 ? null : new JsonObject { ["parts"] = parts };
    }

    private static JsonArray BuildContents(IReadOnlyList<ChatMessage> history)
    {
        // Function responses must name the function they answer; only the call knows it (PROVIDER-QUIRKS.md).
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var message in history)
        {
            foreach (var call in message.Contents.OfType<FunctionCallContent>())
            {
                callNames[call.CallId] = call.Name;
            }
        }

        var contents = new JsonArray();
        JsonObject? last = null;
        foreach (var message in history)
        {
            if (message.Role == ChatRole.System)
            {
                continue;
            }

            var parts = new JsonArray();
            foreach (var content in message.Contents)
            {
                if (BuildPart(content, callNames) is { } part)
                {
                    parts.Add(part);
                }
            }

            // contents[].parts must never be empty.
            if (parts.Count == 0)
            {
                continue;
            }

            var role = message.Role == ChatRole.Assistant ? "model" : "user";

            // Consecutive turns of one role are merged, which also puts parallel function responses (one tool
            // message each) into a single user content, as Gemini requires.
            if (last is not null && GeminiJson.GetString(last, "role") == role)
            {
                var lastParts = (JsonArray)last["parts"]!;
                foreach (var part in parts.ToList())
                {
                    parts.Remove(part);
                    lastParts.Add(part);
                }

                continue;
            }

            last = new JsonObject { ["role"] = role, ["parts"] = parts };
            contents.Add(last);
        }

        return contents;
    }

    private static JsonObject? BuildPart(AIContent content, Dictionary<string, string> callNames)
    {
        switch (content)
        {
            case TextContent text when !string.IsNullOrEmpty(text.Text):
                return new JsonObject { ["text"] = text.Text };

            case DataContent data:
                return new JsonObject
                {
                    ["inlineData"] = new JsonObject
                    {
                        ["mimeType"] = data.MediaType,
                        ["data"] = Convert.ToBase64String(data.Data.Span),
                    },
                };

            case UriContent uri:
                return new JsonObject
                {
                    ["fileData"] = new JsonObject
                    {
                        ["mimeType"] = uri.MediaType,
                        ["fileUri"] = uri.Uri.ToString(),
                    },
                };

            case FunctionCallContent call:
                var callPart = new JsonObject
                {
                    ["functionCall"] = new JsonObject
                    {
                        ["name"] = call.Name,
                        ["args"] = ToArgs(call.Arguments),
                    },
                };
                if (ThoughtSignature(call) is { } signature)
                {
                    callPart["thoughtSignature"] = signature;
                }

                return callPart;

            case FunctionResultContent result:
                return new JsonObject
                {
                    ["functionResponse"] = new JsonObject
                    {
                        ["name"] = callNames.TryGetValue(result.CallId, out var name) ? name : FallbackName(result),
                        ["response"] = ToResponse(result),
                    },
                };

            default:
                // Reasoning is not sent back: Gemini keeps its own thoughts and only needs the signatures on calls.
                return null;
        }
    }

    private static string FallbackName(FunctionResultContent result) =>
        result.AdditionalProperties?.TryGetValue("name", out var name) == true && name is string { Length: > 0 } text
            ? text
            : result.CallId;

    private static JsonObject ToArgs(IDictionary<string, object?>? arguments)
    {
        var args = new JsonObject();
        if (arguments is null)
        {
            return args;
        }

        foreach (var (key, value) in arguments)
        {
            args[key] = ToNode(value);
        }

        return args;
    }

    private static JsonObject ToResponse(FunctionResultContent result)
    {
        if (result.Result is null && result.Exception is not null)
        {
            return new JsonObject { ["error"] = result.Exception.Message };
        }

        var node = result.Result switch
        {
            // A tool that returns JSON text most often means the object, and Gemini wants an object here.
            string text when text.TrimStart().StartsWith('{') => (JsonNode?)(GeminiJson.TryParse(text) as JsonObject) ?? JsonValue.Create(text),
            _ => ToNode(result.Result),
        };

        return node as JsonObject ?? new JsonObject { ["result"] = node };
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        JsonElement { ValueKind: JsonValueKind.Undefined } => null,
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        string text => JsonValue.Create(text),
        _ => JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
    };

    private static string? ThoughtSignature(FunctionCallContent call)
    {
        if (call.AdditionalProperties?.TryGetValue(GeminiPartReader.ThoughtSignatureKey, out var value) == true)
        {
            switch (value)
            {
                case string text:
                    return text;
                case JsonElement { ValueKind: JsonValueKind.String } element:
                    return element.GetString();
                default:
                    break;
            }
        }

        return call.RawRepresentation switch
        {
            JsonObject part => GeminiJson.GetString(part, GeminiPartReader.ThoughtSignatureKey),
            JsonElement { ValueKind: JsonValueKind.Object } element when
                element.TryGetProperty(GeminiPartReader.ThoughtSignatureKey, out var signature) &&
                signature.ValueKind == JsonValueKind.String => signature.GetString(),
            _ => null,
        };
    }

    private static JsonArray? BuildTools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools)
        {
            return null;
        }

        var result = new JsonArray();
        var declarations = new JsonArray();
        foreach (var tool in tools)
        {
            switch (tool)
            {
                case AIFunctionDeclaration function:
                    var declaration = new JsonObject { ["name"] = function.Name };
                    if (!string.IsNullOrWhiteSpace(function.Description))
                    {
                        declaration["description"] = function.Description;
                    }

                    // parametersJsonSchema takes full JSON Schema, unlike the OpenAPI subset in `parameters`.
                    if (Schema(function.JsonSchema) is { } schema)
                    {
                        declaration["parametersJsonSchema"] = schema;
                    }

                    declarations.Add(declaration);
                    break;
                case HostedWebSearchTool:
                    result.Add(new JsonObject { ["googleSearch"] = new JsonObject() });
                    break;
                case HostedCodeInterpreterTool:
                    result.Add(new JsonObject { ["codeExecution"] = new JsonObject() });
                    break;
                default:
                    break;
            }
        }

        if (declarations.Count > 0)
        {
            result.Insert(0, new JsonObject { ["functionDeclarations"] = declarations });
        }

        return result.Count == 0 ? null : result;
    }

    private static JsonObject? BuildToolConfig(ChatToolMode? toolMode)
    {
        var config = toolMode switch
        {
            NoneChatToolMode => new JsonObject { ["mode"] = "NONE" },
            AutoChatToolMode => new JsonObject { ["mode"] = "AUTO" },
            RequiredChatToolMode { RequiredFunctionName: { } name } => new JsonObject
            {
                ["mode"] = "ANY",
                ["allowedFunctionNames"] = new JsonArray(name),
            },
            RequiredChatToolMode => new JsonObject { ["mode"] = "ANY" },
            _ => null,
        };

        return config is null ? null : new JsonObject { ["functionCallingConfig"] = config };
    }

    private static JsonObject BuildGenerationConfig(ChatOptions? options, ProviderSettings settings)
    {
        var config = new JsonObject { ["candidateCount"] = 1 };
        if ((options?.Temperature ?? settings.Temperature) is { } temperature)
        {
            config["temperature"] = temperature;
        }

        if (options is null)
        {
            return config;
        }

        if (options.TopP is { } topP)
        {
            config["topP"] = topP;
        }

        if (options.TopK is { } topK)
        {
            config["topK"] = topK;
        }

        if (options.MaxOutputTokens is { } maxOutputTokens)
        {
            config["maxOutputTokens"] = maxOutputTokens;
        }

        if (options.StopSequences is { Count: > 0 } stopSequences)
        {
            config["stopSequences"] = new JsonArray(stopSequences.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        }

        if (options.Seed is { } seed)
        {
            // Gemini's seed is an int32.
            config["seed"] = unchecked((int)seed);
        }

        if (options.PresencePenalty is { } presencePenalty)
        {
            config["presencePenalty"] = presencePenalty;
        }

        if (options.FrequencyPenalty is { } frequencyPenalty)
        {
            config["frequencyPenalty"] = frequencyPenalty;
        }

        if (options.ResponseFormat is ChatResponseFormatJson json)
        {
            config["responseMimeType"] = "application/json";
            if (Schema(json.Schema) is { } schema)
            {
                config["responseJsonSchema"] = schema;
            }
        }

        if (options.Reasoning is { } reasoning && BuildThinkingConfig(reasoning) is { } thinking)
        {
            config["thinkingConfig"] = thinking;
        }

        return config;
    }

    private static JsonObject? BuildThinkingConfig(ReasoningOptions reasoning)
    {
        var thinking = new JsonObject();
        if (reasoning.Output is { } output)
        {
            thinking["includeThoughts"] = output != ReasoningOutput.None;
        }

        switch (reasoning.Effort)
        {
            case ReasoningEffort.None:
                thinking["thinkingBudget"] = 0;
                break;
            case ReasoningEffort.Low:
                thinking["thinkingLevel"] = "low";
                break;
            case ReasoningEffort.Medium:
                thinking["thinkingLevel"] = "medium";
                break;
            case ReasoningEffort.High or ReasoningEffort.ExtraHigh:
                thinking["thinkingLevel"] = "high";
                break;
            default:
                break;
        }

        return thinking.Count == 0 ? null : thinking;
    }

    private static JsonObject? Schema(JsonElement? schema)
    {
        if (schema is not { ValueKind: JsonValueKind.Object } element)
        {
            return null;
        }

        var node = (JsonObject)JsonNode.Parse(element.GetRawText())!;

        // The meta-schema URI is noise to Gemini and has been rejected by it.
        node.Remove("$schema");
        return node;
    }
}
