using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Builds the JSON body of a Chat Completions request from the conversation and its options.</summary>
internal sealed class OpenAIRequestBuilder
{
    // AIJsonUtilities' defaults indent, which would spend tokens on whitespace inside argument strings.
    private static readonly JsonSerializerOptions JsonOptions = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    private readonly bool _openAIProper;
    private readonly double? _defaultTemperature;

    // Call ids that were sent in an assistant turn and have not been answered yet, in order, so that a result
    // without an id can be paired with the call it most likely answers.
    private readonly List<string> _unanswered = [];
    private int _syntheticIds;

    /// <param name="openAIProper">Whether the server is OpenAI's or Azure's own (see <see cref="OpenAIEndpoint.IsOpenAIProper"/>).</param>
    /// <param name="defaultTemperature">The temperature from config.json, used when the options name none.</param>
    public OpenAIRequestBuilder(bool openAIProper, double? defaultTemperature)
    {
        _openAIProper = openAIProper;
        _defaultTemperature = defaultTemperature;
    }

    public JsonObject Build(IEnumerable<ChatMessage> messages, ChatOptions? options, string? model, bool stream)
    {
        ArgumentNullException.ThrowIfNull(messages);
        _unanswered.Clear();
        _syntheticIds = 0;

        var body = new JsonObject();
        if (!string.IsNullOrEmpty(model))
        {
            body["model"] = model;
        }

        body["messages"] = BuildMessages(messages, options?.Instructions);

        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        AddSampling(body, options);
        AddTools(body, options);
        AddResponseFormat(body, options?.ResponseFormat);
        AddAdditionalProperties(body, options);
        return body;
    }

    private JsonArray BuildMessages(IEnumerable<ChatMessage> messages, string? instructions)
    {
        var result = new JsonArray();
        if (!string.IsNullOrWhiteSpace(instructions))
        {
            result.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        foreach (var message in messages)
        {
            // Tool results become their own "tool" messages whatever role carried them, and they go first: OpenAI
            // requires them right after the assistant turn whose calls they answer.
            foreach (var functionResult in message.Contents.OfType<FunctionResultContent>())
            {
                result.Add(new JsonObject
                {
                    ["role"] = "tool",
                    ["tool_call_id"] = ResultCallId(functionResult.CallId),
                    ["content"] = SerializeResult(functionResult),
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

            if (message.Role == ChatRole.System || string.Equals(message.Role.Value, "developer", StringComparison.OrdinalIgnoreCase))
            {
                var text = JoinText(message.Contents);
                if (text.Length > 0)
                {
                    result.Add(new JsonObject { ["role"] = message.Role == ChatRole.System ? "system" : "developer", ["content"] = text });
                }

                continue;
            }

            if (BuildUserContent(message.Contents) is { } content)
            {
                result.Add(new JsonObject { ["role"] = "user", ["content"] = content });
            }
        }

        return result;
    }

    private JsonObject? BuildAssistant(ChatMessage message)
    {
        var text = JoinText(message.Contents);
        var toolCalls = new JsonArray();
        foreach (var call in message.Contents.OfType<FunctionCallContent>())
        {
            var id = string.IsNullOrEmpty(call.CallId) ? NextSyntheticId() : call.CallId;
            _unanswered.Add(id);
            toolCalls.Add(new JsonObject
            {
                ["id"] = id,
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = call.Name,
                    // The wire format carries arguments as a JSON string, not an object.
                    ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), JsonOptions),
                },
            });
        }

        if (text.Length == 0 && toolCalls.Count == 0)
        {
            return null;
        }

        // An assistant turn with only tool calls sends content null: some servers reject an empty string there.
        var assistant = new JsonObject { ["role"] = "assistant", ["content"] = text.Length > 0 ? text : null };
        if (toolCalls.Count > 0)
        {
            assistant["tool_calls"] = toolCalls;
        }

        return assistant;
    }

    private static JsonNode? BuildUserContent(IList<AIContent> contents)
    {
        var hasMedia = contents.Any(c => c is DataContent or UriContent);
        if (!hasMedia)
        {
            var text = JoinText(contents);
            return text.Length > 0 ? JsonValue.Create(text) : null;
        }

        var parts = new JsonArray();
        foreach (var content in contents)
        {
            switch (content)
            {
                case TextContent { Text.Length: > 0 } text:
                    parts.Add(new JsonObject { ["type"] = "text", ["text"] = text.Text });
                    break;
                case DataContent data when data.HasTopLevelMediaType("image"):
                    parts.Add(ImagePart(data.Uri));
                    break;
                case DataContent data when string.Equals(data.MediaType, "application/pdf", StringComparison.OrdinalIgnoreCase):
                    parts.Add(new JsonObject
                    {
                        ["type"] = "file",
                        ["file"] = new JsonObject { ["filename"] = data.Name ?? "document.pdf", ["file_data"] = data.Uri },
                    });
                    break;
                case UriContent uri when uri.HasTopLevelMediaType("image"):
                    parts.Add(ImagePart(uri.Uri.ToString()));
                    break;
                default:
                    break;
            }
        }

        return parts.Count > 0 ? parts : null;
    }

    private static JsonObject ImagePart(string url) =>
        new() { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } };

    private void AddSampling(JsonObject body, ChatOptions? options)
    {
        if ((options?.Temperature ?? _defaultTemperature) is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (options is null)
        {
            return;
        }

        if (options.MaxOutputTokens is { } maxTokens)
        {
            // OpenAI deprecated max_tokens (o-series and gpt-5 reject it); most compatible servers know only max_tokens.
            body[_openAIProper ? "max_completion_tokens" : "max_tokens"] = maxTokens;
        }

        if (options.TopP is { } topP)
        {
            body["top_p"] = topP;
        }

        // OpenAI has no top_k; vLLM, llama.cpp, OpenRouter and Together accept it.
        if (options.TopK is { } topK && !_openAIProper)
        {
            body["top_k"] = topK;
        }

        if (options.StopSequences is { Count: > 0 } stops)
        {
            body["stop"] = new JsonArray([.. stops.Select(s => JsonValue.Create(s))]);
        }

        if (options.FrequencyPenalty is { } frequencyPenalty)
        {
            body["frequency_penalty"] = frequencyPenalty;
        }

        if (options.PresencePenalty is { } presencePenalty)
        {
            body["presence_penalty"] = presencePenalty;
        }

        if (options.Seed is { } seed)
        {
            body["seed"] = seed;
        }

        if (options.Reasoning?.Effort is { } effort)
        {
            body["reasoning_effort"] = effort switch
            {
                ReasoningEffort.None => "none",
                ReasoningEffort.Low => "low",
                ReasoningEffort.Medium => "medium",
                ReasoningEffort.High => "high",
                _ => "xhigh",
            };
        }
    }

    private static void AddTools(JsonObject body, ChatOptions? options)
    {
        var functions = options?.Tools?.OfType<AIFunctionDeclaration>().ToList() ?? [];

        // tool_choice and parallel_tool_calls are rejected by OpenAI when no tools are sent.
        if (functions.Count == 0)
        {
            return;
        }

        var tools = new JsonArray();
        foreach (var function in functions)
        {
            var definition = new JsonObject { ["name"] = function.Name };
            if (!string.IsNullOrEmpty(function.Description))
            {
                definition["description"] = function.Description;
            }

            definition["parameters"] = function.JsonSchema.ValueKind == JsonValueKind.Object
                ? JsonNode.Parse(function.JsonSchema.GetRawText())
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            tools.Add(new JsonObject { ["type"] = "function", ["function"] = definition });
        }

        body["tools"] = tools;

        switch (options!.ToolMode)
        {
            case NoneChatToolMode:
                body["tool_choice"] = "none";
                break;
            case AutoChatToolMode:
                body["tool_choice"] = "auto";
                break;
            case RequiredChatToolMode { RequiredFunctionName: { } name }:
                body["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };
                break;
            case RequiredChatToolMode:
                body["tool_choice"] = "required";
                break;
            default:
                break;
        }

        if (options.AllowMultipleToolCalls is { } parallel)
        {
            body["parallel_tool_calls"] = parallel;
        }
    }

    private static void AddResponseFormat(JsonObject body, ChatResponseFormat? format)
    {
        if (format is not ChatResponseFormatJson json)
        {
            return;
        }

        if (json.Schema is not { } schema)
        {
            body["response_format"] = new JsonObject { ["type"] = "json_object" };
            return;
        }

        var jsonSchema = new JsonObject { ["name"] = SchemaName(json.SchemaName) };
        if (!string.IsNullOrEmpty(json.SchemaDescription))
        {
            jsonSchema["description"] = json.SchemaDescription;
        }

        jsonSchema["schema"] = JsonNode.Parse(schema.GetRawText());
        jsonSchema["strict"] = true;
        body["response_format"] = new JsonObject { ["type"] = "json_schema", ["json_schema"] = jsonSchema };
    }

    // OpenAI requires ^[a-zA-Z0-9_-]{1,64}$ for the schema name.
    private static string SchemaName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "response";
        }

        var cleaned = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            cleaned.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return cleaned.Length > 64 ? cleaned.ToString(0, 64) : cleaned.ToString();
    }

    private static void AddAdditionalProperties(JsonObject body, ChatOptions? options)
    {
        if (options?.AdditionalProperties is not { Count: > 0 } extra)
        {
            return;
        }

        foreach (var (key, value) in extra)
        {
            // Explicit options win over pass-through values of the same name.
            if (!body.ContainsKey(key))
            {
                body[key] = value is null ? null : JsonSerializer.SerializeToNode(value, value.GetType(), JsonOptions);
            }
        }
    }

    private string ResultCallId(string? callId)
    {
        if (!string.IsNullOrEmpty(callId))
        {
            _unanswered.Remove(callId);
            return callId;
        }

        if (_unanswered.Count > 0)
        {
            var first = _unanswered[0];
            _unanswered.RemoveAt(0);
            return first;
        }

        return NextSyntheticId();
    }

    // Deterministic, so that the same history always produces the same request (and hits the prompt cache).
    private string NextSyntheticId() => $"call_ally_{_syntheticIds++}";

    private static string SerializeResult(FunctionResultContent result) => result.Result switch
    {
        null when result.Exception is { } exception => $"Error: {exception.Message}",
        null => string.Empty,
        string text => text,
        JsonElement { ValueKind: JsonValueKind.String } element => element.GetString() ?? string.Empty,
        JsonElement element => element.GetRawText(),
        JsonNode node => node.ToJsonString(),
        TextContent text => text.Text,
        var other => JsonSerializer.Serialize(other, other.GetType(), JsonOptions),
    };

    private static string JoinText(IEnumerable<AIContent> contents)
    {
        var builder = new StringBuilder();
        foreach (var content in contents)
        {
            if (content is TextContent text)
            {
                builder.Append(text.Text);
            }
        }

        return builder.ToString();
    }
}
