using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>
/// Reads an OpenAI Chat Completions request body into MEAI messages and options. Every mistake becomes a 400 that
/// names the field, as OpenAI's own API answers. Fields without an MEAI equivalent that change nothing for the
/// answer's shape (<c>metadata</c>, <c>store</c>, <c>logprobs</c>) are ignored.
/// </summary>
/// <remarks>See https://platform.openai.com/docs/api-reference/chat/create.</remarks>
internal static class ChatRequestReader
{
    private static readonly JsonElement EmptySchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();

    // The fields read below. JsonProperty.Name allocates a string per property of every request; matching the UTF-8
    // name against these instead does not.
    private static readonly string[] Fields =
    [
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
        "frequency_penalty", "presence_penalty", "user", "safety_identifier", "tools", "tool_choice", "parallel_tool_calls",
        "response_format", "reasoning_effort", "n",
    ];

    private static readonly byte[][] FieldNames = [.. Fields.Select(System.Text.Encoding.UTF8.GetBytes)];

    public static GatewayChatRequest Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("The request body must be a JSON object.", null);
        }

        string? model = null;
        List<ChatMessage>? messages = null;
        var options = new ChatOptions();
        var stream = false;
        var includeUsage = false;

        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = FieldOf(property);
            switch (name)
            {
                case "model":
                    model = String(value, "model");
                    break;
                case "messages":
                    messages = ReadMessages(value);
                    break;
                case "stream":
                    stream = Bool(value, "stream") ?? false;
                    break;
                case "stream_options":
                    if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("include_usage", out var include))
                    {
                        includeUsage = Bool(include, "stream_options.include_usage") ?? false;
                    }

                    break;
                case "temperature":
                    options.Temperature = (float?)Number(value, "temperature", 0, 2);
                    break;
                case "top_p":
                    options.TopP = (float?)Number(value, "top_p", 0, 1);
                    break;
                case "max_tokens":
                case "max_completion_tokens":
                    options.MaxOutputTokens = Int(value, name) ?? options.MaxOutputTokens;
                    break;
                case "stop":
                    options.StopSequences = ReadStop(value);
                    break;
                case "seed":
                    options.Seed = value.ValueKind == JsonValueKind.Null ? null
                        : value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seed) ? seed
                        : throw Invalid("'seed' must be an integer.", "seed");
                    break;
                case "frequency_penalty":
                    options.FrequencyPenalty = (float?)Number(value, "frequency_penalty", -2, 2);
                    break;
                case "presence_penalty":
                    options.PresencePenalty = (float?)Number(value, "presence_penalty", -2, 2);
                    break;
                case "user":
                case "safety_identifier":
                    // Accepted as OpenAI does, but neither forwarded nor recorded: usage records name the client key.
                    _ = String(value, name);
                    break;
                case "tools":
                    options.Tools = ReadTools(value);
                    break;
                case "tool_choice":
                    options.ToolMode = ReadToolChoice(value);
                    break;
                case "parallel_tool_calls":
                    options.AllowMultipleToolCalls = Bool(value, "parallel_tool_calls");
                    break;
                case "response_format":
                    options.ResponseFormat = ReadResponseFormat(value);
                    break;
                case "reasoning_effort":
                    options.Reasoning = ReadReasoning(value);
                    break;
                case "n":
                    if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n != 1)
                    {
                        throw Invalid("This gateway returns one choice per request; 'n' must be 1.", "n");
                    }

                    break;
                default:
                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(model))
        {
            throw Invalid("'model' is required: a provider/model such as \"openai/gpt-4.1-mini\", a model of the default provider, or an alias.", "model");
        }

        if (messages is null || messages.Count == 0)
        {
            throw Invalid("'messages' is required and must not be empty.", "messages");
        }

        return new GatewayChatRequest(model, messages, options, stream, includeUsage);
    }

    private static List<ChatMessage> ReadMessages(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("'messages' must be an array.", "messages");
        }

        var messages = new List<ChatMessage>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            messages.Add(ReadMessage(item, index));
            index++;
        }

        return messages;
    }

    private static ChatMessage ReadMessage(JsonElement item, int index)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String)
        {
            var path = MessagePath(index);
            throw Invalid($"'{path}' must be an object with a 'role'.", path);
        }

        item.TryGetProperty("content", out var content);

        // Roles compared as UTF-8, so that the common ones cost no string.
        if (roleElement.ValueEquals("user"u8))
        {
            return new ChatMessage(ChatRole.User, ReadUserContents(content, index)) { AuthorName = OptionalString(item, "name") };
        }

        // Developer messages are system messages for every protocol but OpenAI's own, which treats them alike.
        if (roleElement.ValueEquals("system"u8) || roleElement.ValueEquals("developer"u8))
        {
            return new ChatMessage(ChatRole.System, ReadText(content, index));
        }

        if (roleElement.ValueEquals("assistant"u8))
        {
            return ReadAssistant(item, content, index);
        }

        if (roleElement.ValueEquals("tool"u8))
        {
            var callId = OptionalString(item, "tool_call_id") ?? throw Invalid($"'{MessagePath(index)}.tool_call_id' is required for a tool message.", MessagePath(index) + ".tool_call_id");
            return new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, ReadText(content, index))]);
        }

        throw Invalid($"'{MessagePath(index)}.role' is '{roleElement.GetString()}'; allowed: system, developer, user, assistant, tool.", MessagePath(index) + ".role");
    }

    /// <summary>Names a message in error messages; built only when there is an error to report.</summary>
    private static string MessagePath(int index) => $"messages[{index}]";

    private static string? FieldOf(JsonProperty property)
    {
        for (var i = 0; i < FieldNames.Length; i++)
        {
            if (property.NameEquals(FieldNames[i]))
            {
                return Fields[i];
            }
        }

        return null;
    }

    private static ChatMessage ReadAssistant(JsonElement item, JsonElement content, int messageIndex)
    {
        var path = MessagePath(messageIndex);
        var contents = new List<AIContent>();
        var text = content.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? string.Empty : ReadText(content, messageIndex);
        if (text.Length > 0)
        {
            contents.Add(new TextContent(text));
        }

        if (item.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var callPath = $"{path}.tool_calls[{index++}]";
                if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid($"'{callPath}.function' is required.", callPath);
                }

                var name = OptionalString(function, "name") ?? throw Invalid($"'{callPath}.function.name' is required.", callPath);
                var arguments = OptionalString(function, "arguments");
                contents.Add(new FunctionCallContent(OptionalString(call, "id") ?? string.Empty, name, ParseArguments(arguments, callPath)));
            }
        }

        return new ChatMessage(ChatRole.Assistant, contents);
    }

    private static Dictionary<string, object?>? ParseArguments(string? arguments, string path)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"'{path}.function.arguments' must be a JSON object encoded as a string.", path);
            }

            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                result[property.Name] = property.Value.Clone();
            }

            return result;
        }
        catch (JsonException)
        {
            throw Invalid($"'{path}.function.arguments' is not valid JSON.", path);
        }
    }

    private static List<AIContent> ReadUserContents(JsonElement content, int messageIndex)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return [new TextContent(content.GetString())];
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            var path = MessagePath(messageIndex);
            throw Invalid($"'{path}.content' must be a string or an array of parts.", path + ".content");
        }

        var contents = new List<AIContent>();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partIndex = index++;
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var typeElement) && typeElement.ValueEquals("text"u8))
            {
                contents.Add(new TextContent(OptionalString(part, "text") ?? string.Empty));
                continue;
            }

            var partPath = $"{MessagePath(messageIndex)}.content[{partIndex}]";
            var type = part.ValueKind == JsonValueKind.Object ? OptionalString(part, "type") : null;
            switch (type)
            {
                case "image_url":
                    var url = part.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.Object ? OptionalString(image, "url")
                        : part.TryGetProperty("image_url", out image) && image.ValueKind == JsonValueKind.String ? image.GetString()
                        : null;
                    contents.Add(ReadMedia(url, "image/*", partPath));
                    break;
                case "file":
                    var data = part.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.Object ? OptionalString(file, "file_data") : null;
                    contents.Add(ReadMedia(data, null, partPath) is DataContent document
                        ? new DataContent(document.Uri) { Name = OptionalString(file, "filename") }
                        : throw Invalid($"'{partPath}.file.file_data' must be a data: URI (uploaded file ids are not supported).", partPath));
                    break;
                default:
                    throw Invalid($"'{partPath}.type' is '{type}'; supported: text, image_url, file.", partPath);
            }
        }

        return contents;
    }

    private static AIContent ReadMedia(string? url, string? mediaType, string path)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw Invalid($"'{path}' needs a URL.", path);
        }

        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new DataContent(url);
            }
            catch (FormatException)
            {
                throw Invalid($"'{path}' is not a valid data: URI.", path);
            }
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && mediaType is not null
            ? new UriContent(uri, mediaType)
            : throw Invalid($"'{path}' must be an http(s) URL or a data: URI.", path);
    }

    private static string ReadText(JsonElement content, int messageIndex)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return string.Empty;
            case JsonValueKind.Array:
                var parts = new List<string>();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && OptionalString(part, "type") == "text" && OptionalString(part, "text") is { } text)
                    {
                        parts.Add(text);
                    }
                    else if (part.ValueKind == JsonValueKind.String)
                    {
                        parts.Add(part.GetString()!);
                    }
                }

                return string.Concat(parts);
            default:
                var path = MessagePath(messageIndex);
                throw Invalid($"'{path}.content' must be a string or an array of text parts.", path + ".content");
        }
    }

    private static List<AITool> ReadTools(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("'tools' must be an array.", "tools");
        }

        var tools = new List<AITool>();
        var index = 0;
        foreach (var tool in value.EnumerateArray())
        {
            var path = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object || OptionalString(tool, "type") != "function" || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"'{path}' must be {{\"type\":\"function\",\"function\":{{...}}}}.", path);
            }

            var name = OptionalString(function, "name") ?? throw Invalid($"'{path}.function.name' is required.", path);
            var schema = function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                ? parameters.Clone()
                : EmptySchema;
            tools.Add(AIFunctionFactory.CreateDeclaration(name, OptionalString(function, "description") ?? string.Empty, schema));
        }

        return tools;
    }

    private static ChatToolMode? ReadToolChoice(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString() switch
            {
                "auto" => ChatToolMode.Auto,
                "none" => ChatToolMode.None,
                "required" => ChatToolMode.RequireAny,
                var other => throw Invalid($"'tool_choice' is '{other}'; allowed: auto, none, required, or {{\"type\":\"function\",\"function\":{{\"name\":...}}}}.", "tool_choice"),
            };
        }

        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object && OptionalString(function, "name") is { } name)
        {
            return ChatToolMode.RequireSpecific(name);
        }

        return value.ValueKind == JsonValueKind.Null ? null : throw Invalid("'tool_choice' must be auto, none, required or a function.", "tool_choice");
    }

    private static ChatResponseFormat? ReadResponseFormat(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var type = value.ValueKind == JsonValueKind.Object ? OptionalString(value, "type") : null;
        switch (type)
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema":
                if (!value.TryGetProperty("json_schema", out var definition) || definition.ValueKind != JsonValueKind.Object
                    || !definition.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid("'response_format.json_schema.schema' is required for type json_schema.", "response_format");
                }

                return ChatResponseFormat.ForJsonSchema(schema.Clone(), OptionalString(definition, "name"), OptionalString(definition, "description"));
            default:
                throw Invalid($"'response_format.type' is '{type}'; allowed: text, json_object, json_schema.", "response_format");
        }
    }

    private static ReasoningOptions? ReadReasoning(JsonElement value) => value.ValueKind == JsonValueKind.Null ? null : new ReasoningOptions
    {
        Effort = String(value, "reasoning_effort") switch
        {
            "none" or "minimal" => ReasoningEffort.None,
            "low" => ReasoningEffort.Low,
            "medium" => ReasoningEffort.Medium,
            "high" => ReasoningEffort.High,
            "xhigh" => ReasoningEffort.ExtraHigh,
            var other => throw Invalid($"'reasoning_effort' is '{other}'; allowed: none, minimal, low, medium, high, xhigh.", "reasoning_effort"),
        },
    };

    private static List<string>? ReadStop(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return [value.GetString()!];
            case JsonValueKind.Array:
                var stops = new List<string>();
                foreach (var stop in value.EnumerateArray())
                {
                    stops.Add(stop.ValueKind == JsonValueKind.String ? stop.GetString()! : throw Invalid("'stop' must be a string or an array of strings.", "stop"));
                }

                return stops;
            default:
                throw Invalid("'stop' must be a string or an array of strings.", "stop");
        }
    }

    private static string? String(JsonElement value, string name) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => throw Invalid($"'{name}' must be a string.", name),
    };

    private static string? OptionalString(JsonElement item, string name) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool? Bool(JsonElement value, string name) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw Invalid($"'{name}' must be true or false.", name),
    };

    private static double? Number(JsonElement value, string name, double min, double max)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number >= min && number <= max
            ? number
            : throw Invalid($"'{name}' must be a number from {min} to {max}.", name);
    }

    private static int? Int(JsonElement value, string name)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0
            ? number
            : throw Invalid($"'{name}' must be a positive integer.", name);
    }

    private static GatewayException Invalid(string message, string? param) => new(GatewayError.BadRequest(message, param));
}
