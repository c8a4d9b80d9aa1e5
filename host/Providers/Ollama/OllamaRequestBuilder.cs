using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Ollama;

/// <summary>Builds the body of <c>POST /api/chat</c> from the chat history and options.</summary>
/// <remarks>Wire format: https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion.</remarks>
internal static class OllamaRequestBuilder
{
    // Ollama's runner options that callers may pass through ChatOptions.AdditionalProperties; anything else there
    // belongs to other middleware and must not reach the server, which logs unknown options as invalid.
    private static readonly HashSet<string> PassThroughOptions = new(StringComparer.Ordinal)
    {
        "num_ctx", "num_keep", "num_batch", "num_gpu", "num_thread", "repeat_penalty", "repeat_last_n",
        "min_p", "typical_p", "mirostat", "mirostat_tau", "mirostat_eta",
    };

    // Tool results reach the model as text: compact, and without \u0022-style escapes it would have to read through.
    private static readonly JsonSerializerOptions ResultOptions = new(AIJsonUtilities.DefaultOptions)
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonObject Build(IEnumerable<ChatMessage> messages, ChatOptions? options, ProviderSettings settings, bool stream)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(settings);

        var model = options?.ModelId ?? settings.Model;
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new ProviderException(
                ProviderErrorKind.InvalidRequest,
                $"No model is configured for {settings.Name}: set one in config.json or pick one from `ollama list`.",
                settings.Name);
        }

        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = BuildMessages(messages, options?.Instructions, settings.Name),
            ["stream"] = stream,
        };

        if (BuildTools(options) is { } tools)
        {
            request["tools"] = tools;
        }

        switch (options?.ResponseFormat)
        {
            case ChatResponseFormatJson { Schema: { } schema }:
                request["format"] = JsonNode.Parse(schema.GetRawText());
                break;
            case ChatResponseFormatJson:
                request["format"] = "json";
                break;
            default:
                break;
        }

        var runnerOptions = BuildOptions(options, settings);
        if (runnerOptions.Count > 0)
        {
            request["options"] = runnerOptions;
        }

        var extra = options?.AdditionalProperties;

        // Thinking is opt-in: models without it reject "think": true with a 400.
        if (extra?.TryGetValue("think", out var think) is true && think is not null)
        {
            request["think"] = ToNode(think);
        }

        if (extra?.TryGetValue("keep_alive", out var keepAlive) is true && keepAlive is not null)
        {
            request["keep_alive"] = ToNode(keepAlive);
        }
        else if (settings.GetValue("keep_alive") is { } configured)
        {
            // Ollama reads a bare number as seconds and a string as a Go duration ("10m").
            request["keep_alive"] = long.TryParse(configured, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
                ? seconds
                : configured;
        }

        return request;
    }

    private static JsonArray BuildMessages(IEnumerable<ChatMessage> messages, string? instructions, string provider)
    {
        var history = messages as IReadOnlyCollection<ChatMessage> ?? messages.ToList();

        // Tool results must name the function they answer; the name lives on the call earlier in the history.
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var call in history.SelectMany(m => m.Contents).OfType<FunctionCallContent>())
        {
            callNames[call.CallId] = call.Name;
        }

        var result = new JsonArray();
        if (!string.IsNullOrWhiteSpace(instructions))
        {
            result.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        foreach (var message in history)
        {
            AddMessage(result, message, callNames, provider);
        }

        return result;
    }

    private static void AddMessage(JsonArray result, ChatMessage message, Dictionary<string, string> callNames, string provider)
    {
        var text = new StringBuilder();
        var thinking = new StringBuilder();
        var images = new JsonArray();
        var toolCalls = new JsonArray();
        var toolResults = new List<JsonObject>();

        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent textContent:
                    text.Append(textContent.Text);
                    break;
                case TextReasoningContent reasoning:
                    thinking.Append(reasoning.Text);
                    break;
                case DataContent data when data.HasTopLevelMediaType("image"):
                    images.Add(data.Base64Data.ToString());
                    break;
                case DataContent or UriContent:
                    throw new ProviderException(
                        ProviderErrorKind.InvalidRequest,
                        $"{provider} accepts attachments only as inline image data; this message has a {(content is DataContent d ? d.MediaType : "URL")} attachment.",
                        provider);
                case FunctionCallContent call:
                    toolCalls.Add(new JsonObject
                    {
                        ["function"] = new JsonObject
                        {
                            ["name"] = call.Name,
                            ["arguments"] = ArgumentsToNode(call.Arguments),
                        },
                    });
                    break;
                case FunctionResultContent toolResult:
                    var toolMessage = new JsonObject
                    {
                        ["role"] = "tool",
                        ["content"] = SerializeResult(toolResult),
                    };
                    if (callNames.TryGetValue(toolResult.CallId, out var name))
                    {
                        toolMessage["tool_name"] = name;
                    }

                    toolResults.Add(toolMessage);
                    break;
                default:
                    break;
            }
        }

        var role = MapRole(message.Role);
        var hasBody = text.Length > 0 || images.Count > 0 || toolCalls.Count > 0 || thinking.Length > 0;
        if (hasBody || toolResults.Count == 0)
        {
            var wire = new JsonObject { ["role"] = role, ["content"] = text.ToString() };
            if (thinking.Length > 0 && role == "assistant")
            {
                wire["thinking"] = thinking.ToString();
            }

            if (images.Count > 0)
            {
                wire["images"] = images;
            }

            if (toolCalls.Count > 0)
            {
                wire["tool_calls"] = toolCalls;
            }

            result.Add(wire);
        }

        foreach (var toolMessage in toolResults)
        {
            result.Add(toolMessage);
        }
    }

    private static string MapRole(ChatRole role)
    {
        if (role == ChatRole.System || string.Equals(role.Value, "developer", StringComparison.OrdinalIgnoreCase))
        {
            return "system";
        }

        if (role == ChatRole.Assistant)
        {
            return "assistant";
        }

        if (role == ChatRole.Tool)
        {
            return "tool";
        }

        return role == ChatRole.User ? "user" : role.Value;
    }

    private static JsonArray? BuildTools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools || options.ToolMode is NoneChatToolMode)
        {
            return null;
        }

        // Ollama has no tool_choice; forcing one function is approximated by offering only that function.
        var required = (options.ToolMode as RequiredChatToolMode)?.RequiredFunctionName;
        var result = new JsonArray();
        foreach (var function in tools.OfType<AIFunctionDeclaration>())
        {
            if (required is not null && !string.Equals(function.Name, required, StringComparison.Ordinal))
            {
                continue;
            }

            var declaration = new JsonObject { ["name"] = function.Name };
            if (!string.IsNullOrEmpty(function.Description))
            {
                declaration["description"] = function.Description;
            }

            declaration["parameters"] = JsonNode.Parse(function.JsonSchema.GetRawText());
            result.Add(new JsonObject { ["type"] = "function", ["function"] = declaration });
        }

        return result.Count > 0 ? result : null;
    }

    private static JsonObject BuildOptions(ChatOptions? options, ProviderSettings settings)
    {
        var result = new JsonObject();
        if ((options?.Temperature ?? (float?)settings.Temperature) is { } temperature)
        {
            result["temperature"] = temperature;
        }

        if (options?.TopP is { } topP)
        {
            result["top_p"] = topP;
        }

        if (options?.TopK is { } topK)
        {
            result["top_k"] = topK;
        }

        if (options?.MaxOutputTokens is { } maxTokens)
        {
            result["num_predict"] = maxTokens;
        }

        if (options?.StopSequences is { Count: > 0 } stop)
        {
            result["stop"] = new JsonArray(stop.Select(s => (JsonNode?)s).ToArray());
        }

        if (options?.Seed is { } seed)
        {
            result["seed"] = seed;
        }

        if (options?.PresencePenalty is { } presence)
        {
            result["presence_penalty"] = presence;
        }

        if (options?.FrequencyPenalty is { } frequency)
        {
            result["frequency_penalty"] = frequency;
        }

        // Ollama's default context window is small; config.json may raise it for the provider.
        if (settings.GetValue("num_ctx") is { } numCtx &&
            int.TryParse(numCtx, NumberStyles.Integer, CultureInfo.InvariantCulture, out var contextSize))
        {
            result["num_ctx"] = contextSize;
        }

        if (options?.AdditionalProperties is { } extra)
        {
            foreach (var (key, value) in extra)
            {
                if (value is not null && PassThroughOptions.Contains(key))
                {
                    result[key] = ToNode(value);
                }
            }
        }

        return result;
    }

    private static JsonNode ArgumentsToNode(IDictionary<string, object?>? arguments)
    {
        if (arguments is null)
        {
            return new JsonObject();
        }

        var node = JsonSerializer.SerializeToNode(arguments, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)));
        return node ?? new JsonObject();
    }

    private static string SerializeResult(FunctionResultContent result)
    {
        switch (result.Result)
        {
            case null when result.Exception is { } exception:
                return $"Error: {exception.Message}";
            case null:
                return string.Empty;
            case string text:
                return text;
            case JsonElement { ValueKind: JsonValueKind.String } element:
                return element.GetString() ?? string.Empty;
            case JsonElement element:
                return element.GetRawText();
            default:
                return JsonSerializer.Serialize(result.Result, ResultOptions.GetTypeInfo(typeof(object)));
        }
    }

    private static JsonNode? ToNode(object value) =>
        value as JsonNode ?? JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(object)));
}
