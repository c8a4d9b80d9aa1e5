using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Anthropic;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Providers.Anthropic;

/// <summary>Writes Anthropic's wire format from a loopback server handler, and builds clients pointed at it.</summary>
internal static class AnthropicWire
{
    public const string ApiKey = "sk-ant-api03-SECRET-test-key-0123456789";

    public static AnthropicChatClient Client(LoopbackServer server, Func<ProviderSettings, ProviderSettings>? configure = null)
    {
        var settings = new ProviderSettings
        {
            Name = "anthropic",
            Model = "claude-sonnet-4-5",
            BaseUrl = new Uri(server.BaseAddress.AbsoluteUri.TrimEnd('/')),
            ApiKey = ApiKey,
        };
        return new AnthropicChatClient(configure?.Invoke(settings) ?? settings);
    }

    public static async Task WriteJsonAsync(HttpContext context, int status, string body, params (string Name, string Value)[] headers)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    public static void StartSse(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
    }

    /// <summary>Frames one event the way Anthropic does: an event line, a data line, a blank line.</summary>
    public static string Event(string type, string data) => $"event: {type}\ndata: {data}\n\n";

    public static string MessageStart(string id = "msg_01", string model = "claude-sonnet-4-5-20250929", int input = 10, int output = 1, int cacheRead = 0, int cacheCreation = 0) =>
        Event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"" + id + "\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"" + model +
            "\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":" + N(input) + ",\"cache_creation_input_tokens\":" + N(cacheCreation) +
            ",\"cache_read_input_tokens\":" + N(cacheRead) + ",\"output_tokens\":" + N(output) + "}}}");

    public static string TextStart(int index = 0) =>
        Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + N(index) + ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");

    public static string TextDelta(string text, int index = 0) =>
        Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + N(index) + ",\"delta\":{\"type\":\"text_delta\",\"text\":" + JsonSerializer.Serialize(text) + "}}");

    public static string BlockStop(int index = 0) =>
        Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + N(index) + "}");

    public static string ToolStart(int index, string id, string name) =>
        Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + N(index) + ",\"content_block\":{\"type\":\"tool_use\",\"id\":\"" + id + "\",\"name\":\"" + name + "\",\"input\":{}}}");

    public static string JsonDelta(int index, string partial) =>
        Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + N(index) + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + JsonSerializer.Serialize(partial) + "}}");

    public static string MessageDelta(string stopReason, int output, string extraUsage = "") =>
        Event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason + "\",\"stop_sequence\":null},\"usage\":{" + extraUsage + "\"output_tokens\":" + N(output) + "}}");

    public static string MessageStop() => Event("message_stop", """{"type":"message_stop"}""");

    public static string Ping() => Event("ping", """{"type": "ping"}""");

    public static string Message(string content, string stopReason = "end_turn", string usage = """{"input_tokens":12,"output_tokens":5}""", string model = "claude-sonnet-4-5-20250929") =>
        "{\"id\":\"msg_01A\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"" + model + "\",\"content\":" + content + ",\"stop_reason\":\"" + stopReason +
        "\",\"stop_sequence\":null,\"usage\":" + usage + "}";

    public static string Error(string type, string message) =>
        "{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":" + JsonSerializer.Serialize(message) + "},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}";

    /// <summary>Applies a recorded <c>.headers</c> fixture (status line and headers) to the response.</summary>
    public static void ApplyRecordedHeaders(HttpContext context, string recorded)
    {
        var lines = recorded.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        context.Response.StatusCode = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.ContentType = value;
            }
            else if (!name.Equals("Date", StringComparison.OrdinalIgnoreCase) && !name.Equals("Server", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = value;
            }
        }
    }

    public static JsonElement Body(RecordedRequest request) => JsonDocument.Parse(request.Body).RootElement.Clone();

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string N(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
