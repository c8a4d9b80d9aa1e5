using System.Text;
using Microsoft.Extensions.AI;
using Newtonsoft.Json.Linq;

namespace Ally.Plugins.Cohere;

/// <summary>Builds the body of a Cohere v2 <c>POST /v2/chat</c> request from messages and options.</summary>
/// <remarks>See https://docs.cohere.com/reference/chat for the fields.</remarks>
internal static class CohereRequestBuilder
{
    public static JObject Build(IEnumerable<ChatMessage> messages, ChatOptions? options, string model, double? defaultTemperature, bool stream)
    {
        ArgumentNullException.ThrowIfNull(messages);

        var body = new JObject
        {
            ["model"] = options?.ModelId is { Length: > 0 } modelId ? modelId : model,
            ["messages"] = BuildMessages(messages, options?.Instructions),
        };

        AddTools(body, options);

        if ((options?.Temperature ?? defaultTemperature) is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (options?.MaxOutputTokens is { } maxTokens)
        {
            body["max_tokens"] = maxTokens;
        }

        if (options?.TopP is { } topP)
        {
            body["p"] = topP;
        }

        if (options?.TopK is { } topK)
        {
            body["k"] = topK;
        }

        if (options?.StopSequences is { Count: > 0 } stops)
        {
            body["stop_sequences"] = new JArray(stops);
        }

        if (options?.Seed is { } seed)
        {
            body["seed"] = seed;
        }

        if (options?.FrequencyPenalty is { } frequencyPenalty)
        {
            body["frequency_penalty"] = frequencyPenalty;
        }

        if (options?.PresencePenalty is { } presencePenalty)
        {
            body["presence_penalty"] = presencePenalty;
        }

        if (BuildResponseFormat(options?.ResponseFormat) is { } responseFormat)
        {
            body["response_format"] = responseFormat;
        }

        body["stream"] = stream;

        // Cohere-only fields (thinking, safety_mode, strict_tools, documents …) pass through unless already set.
        if (options?.AdditionalProperties is { } additional)
        {
            foreach (var (key, value) in additional)
            {
                if (body[key] is null)
                {
                    body[key] = CohereJson.FromObject(value);
                }
            }
        }

        return body;
    }

    private static JArray BuildMessages(IEnumerable<ChatMessage> messages, string? instructions)
    {
        var result = new JArray();
        if (!string.IsNullOrWhiteSpace(instructions))
        {
            result.Add(new JObject { ["role"] = "system", ["content"] = instructions });
        }

        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message);

            // Tool results travel as one "tool" message per call, whatever role the caller put them in.
            foreach (var functionResult in message.Contents.OfType<FunctionResultContent>())
            {
                result.Add(new JObject
                {
                    ["role"] = "tool",
                    ["tool_call_id"] = functionResult.CallId,
                    ["content"] = ResultText(functionResult),
                });
            }

            if (message.Role == ChatRole.Tool)
            {
                continue;
            }

            if (message.Role == ChatRole.Assistant)
            {
                if (BuildAssistant(message) is { } assistant)
                {
                    result.Add(assistant);
                }

                continue;
            }

            var role = message.Role == ChatRole.System ? "system" : "user";
            if (BuildContent(message, allowImages: role == "user") is { } content)
            {
                result.Add(new JObject { ["role"] = role, ["content"] = content });
            }
        }

        return result;
    }

    private static JObject? BuildAssistant(ChatMessage message)
    {
        var calls = message.Contents.OfType<FunctionCallContent>().ToList();
        var text = Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
        if (calls.Count == 0 && text.Length == 0)
        {
            return null;
        }

        var assistant = new JObject { ["role"] = "assistant" };
        if (calls.Count > 0)
        {
            // Cohere returns its reasoning before a tool call as tool_plan; hand it back in the same place.
            var plan = Concat(message.Contents.OfType<TextReasoningContent>().Select(r => r.Text));
            if (plan.Length > 0)
            {
                assistant["tool_plan"] = plan;
            }

            assistant["tool_calls"] = new JArray(calls.Select(call => new JObject
            {
                ["id"] = call.CallId,
                ["type"] = "function",
                ["function"] = new JObject
                {
                    ["name"] = call.Name,
                    ["arguments"] = CohereJson.Serialize(CohereJson.FromObject(call.Arguments ?? new Dictionary<string, object?>())),
                },
            }));
        }

        if (text.Length > 0)
        {
            assistant["content"] = text;
        }

        return assistant;
    }

    private static JToken? BuildContent(ChatMessage message, bool allowImages)
    {
        var parts = new JArray();
        var hasImage = false;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent { Text.Length: > 0 } text:
                    parts.Add(new JObject { ["type"] = "text", ["text"] = text.Text });
                    break;
                case DataContent data when allowImages && data.HasTopLevelMediaType("image"):
                    parts.Add(ImagePart(data.Uri));
                    hasImage = true;
                    break;
                case UriContent uri when allowImages && uri.HasTopLevelMediaType("image"):
                    parts.Add(ImagePart(uri.Uri.AbsoluteUri));
                    hasImage = true;
                    break;
                default:
                    break;
            }
        }

        if (parts.Count == 0)
        {
            return null;
        }

        // Plain text goes as a string, the form every Command model accepts; only images need the array form.
        return hasImage ? parts : Concat(parts.Select(p => (string?)p["text"]));
    }

    private static JObject ImagePart(string url) =>
        new() { ["type"] = "image_url", ["image_url"] = new JObject { ["url"] = url } };

    private static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null => result.Exception is { } exception ? $"Error: {exception.Message}" : string.Empty,
        string text => text,
        var other => CohereJson.Serialize(CohereJson.FromObject(other)),
    };

    private static void AddTools(JObject body, ChatOptions? options)
    {
        var declarations = options?.Tools?.OfType<AIFunctionDeclaration>().ToList() ?? [];
        if (declarations.Count == 0)
        {
            return;
        }

        switch (options!.ToolMode)
        {
            case NoneChatToolMode:
                body["tool_choice"] = "NONE";
                break;
            case RequiredChatToolMode required:
                // Cohere cannot name the tool to call: offer only that one and require a call.
                if (required.RequiredFunctionName is { } name)
                {
                    declarations = [.. declarations.Where(d => d.Name == name)];
                }

                body["tool_choice"] = "REQUIRED";
                break;
            default:
                break;
        }

        body["tools"] = new JArray(declarations.Select(declaration =>
        {
            var function = new JObject { ["name"] = declaration.Name };
            if (!string.IsNullOrWhiteSpace(declaration.Description))
            {
                function["description"] = declaration.Description;
            }

            function["parameters"] = CohereJson.FromObject(declaration.JsonSchema);
            return new JObject { ["type"] = "function", ["function"] = function };
        }));
    }

    private static JObject? BuildResponseFormat(ChatResponseFormat? format) => format switch
    {
        ChatResponseFormatJson { Schema: { } schema } => new JObject
        {
            ["type"] = "json_object",
            ["json_schema"] = CohereJson.FromObject(schema),
        },
        ChatResponseFormatJson => new JObject { ["type"] = "json_object" },
        _ => null,
    };

    private static string Concat(IEnumerable<string?> pieces)
    {
        var builder = new StringBuilder();
        foreach (var piece in pieces)
        {
            builder.Append(piece);
        }

        return builder.ToString();
    }
}
