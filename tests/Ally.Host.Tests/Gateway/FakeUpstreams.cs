using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Gateway;

/// <summary>
/// Loopback fakes of the four protocols, each answering a chat call (streamed or not) with a fixed text, usage and,
/// when the request carries tools, a tool call; and listing its models. Wire shapes as the vendors document them.
/// </summary>
internal static class FakeUpstreams
{
    public static async Task<string> BodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        context.Request.Body.Position = 0;
        return body;
    }

    public static async Task JsonAsync(HttpContext context, string body, int status = 200, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>An OpenAI-compatible server (<c>/v1/chat/completions</c>, <c>/v1/models</c>).</summary>
    public static Func<HttpContext, Task> OpenAI(string text = "Hello from OpenAI", string model = "gpt-4o-mini") => async context =>
    {
        if (context.Request.Method == "GET" && context.Request.Path == "/v1/models")
        {
            await JsonAsync(context, $$"""{"object":"list","data":[{"id":"{{model}}","object":"model","created":1,"owned_by":"openai"},{"id":"gpt-4.1","object":"model","created":1,"owned_by":"openai"}]}""");
            return;
        }

        var request = JsonNode.Parse(await BodyAsync(context))!;
        var tools = request["tools"] is JsonArray { Count: > 0 };
        var stream = request["stream"]?.GetValue<bool>() == true;
        const string Usage = """{"prompt_tokens":26,"completion_tokens":10,"total_tokens":36,"prompt_tokens_details":{"cached_tokens":16},"completion_tokens_details":{"reasoning_tokens":3}}""";
        if (!stream)
        {
            var message = tools
                ? """{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}"""
                : $$"""{"role":"assistant","content":{{JsonSerializer.Serialize(text)}}}""";
            await JsonAsync(context, $$"""{"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"{{model}}","choices":[{"index":0,"message":{{message}},"finish_reason":"{{(tools ? "tool_calls" : "stop")}}"}],"usage":{{Usage}}}""");
            return;
        }

        string Chunk(string delta, string? finish = null) =>
            $$"""{"id":"chatcmpl-up","object":"chat.completion.chunk","created":1,"model":"{{model}}","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""";
        var half = text.Length / 2;
        var events = tools
            ? new[]
            {
                Chunk("""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}"""),
                Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"""),
                Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"""),
                Chunk("{}", "tool_calls"),
            }
            : new[]
            {
                Chunk($$"""{"role":"assistant","content":{{JsonSerializer.Serialize(text[..half])}}}"""),
                Chunk($$"""{"content":{{JsonSerializer.Serialize(text[half..])}}}"""),
                Chunk("{}", "stop"),
            };
        context.Response.ContentType = "text/event-stream";
        await LoopbackServer.WritePiecesAsync(context, [.. events.Select(e => $"data: {e}\n\n"), $$"""data: {"id":"chatcmpl-up","object":"chat.completion.chunk","created":1,"model":"{{model}}","choices":[],"usage":{{Usage}}}""" + "\n\n", "data: [DONE]\n\n"]);
    };

    /// <summary>An Anthropic Messages server (<c>/v1/messages</c>, <c>/v1/models</c>).</summary>
    public static Func<HttpContext, Task> Anthropic(string text = "Hello from Claude", string model = "claude-sonnet-4-5") => async context =>
    {
        if (context.Request.Method == "GET")
        {
            await JsonAsync(context, $$"""{"data":[{"type":"model","id":"{{model}}","display_name":"Claude","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"{{model}}","last_id":"{{model}}"}""");
            return;
        }

        var request = JsonNode.Parse(await BodyAsync(context))!;
        if (request["stream"]?.GetValue<bool>() != true)
        {
            await JsonAsync(context, $$$"""{"id":"msg_01","type":"message","role":"assistant","model":"{{{model}}}","content":[{"type":"text","text":{{{JsonSerializer.Serialize(text)}}}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":5}}""");
            return;
        }

        static string Event(string type, string data) => $"event: {type}\ndata: {data}\n\n";
        context.Response.ContentType = "text/event-stream";
        await LoopbackServer.WritePiecesAsync(context,
        [
            Event("message_start", """{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":""" + "\"" + model + "\"" + ""","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_read_input_tokens":0,"output_tokens":1}}}"""),
            Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            Event("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{{{JsonSerializer.Serialize(text)}}}}}"""),
            Event("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}"""),
            Event("message_stop", """{"type":"message_stop"}"""),
        ]);
    };

    /// <summary>A Gemini server (<c>/v1beta/models/{model}:generateContent</c>, <c>:streamGenerateContent?alt=sse</c>, <c>/v1beta/models</c>).</summary>
    public static Func<HttpContext, Task> Gemini(string text = "Hello from Gemini", string model = "gemini-2.0-flash") => async context =>
    {
        if (context.Request.Method == "GET")
        {
            await JsonAsync(context, $$"""{"models":[{"name":"models/{{model}}","displayName":"Gemini","supportedGenerationMethods":["generateContent","countTokens"]}]}""");
            return;
        }

        const string Usage = """{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}""";
        string Candidate(string piece, string? finish) =>
            $$"""{"candidates":[{"content":{"parts":[{"text":{{JsonSerializer.Serialize(piece)}}}],"role":"model"}{{(finish is null ? string.Empty : $",\"finishReason\":\"{finish}\"")}},"index":0}],"usageMetadata":{{Usage}},"modelVersion":"{{model}}-001","responseId":"resp-1"}""";
        if (!context.Request.Path.Value!.EndsWith(":streamGenerateContent", StringComparison.Ordinal))
        {
            await JsonAsync(context, Candidate(text, "STOP"));
            return;
        }

        var half = text.Length / 2;
        context.Response.ContentType = "text/event-stream";
        await LoopbackServer.WritePiecesAsync(context, [$"data: {Candidate(text[..half], null)}\r\n\r\n", $"data: {Candidate(text[half..], "STOP")}\r\n\r\n"]);
    };

    /// <summary>An Ollama server (<c>/api/chat</c> as JSON or NDJSON, <c>/api/tags</c>).</summary>
    public static Func<HttpContext, Task> Ollama(string text = "Hello from Ollama", string model = "llama3.1") => async context =>
    {
        if (context.Request.Method == "GET")
        {
            await JsonAsync(context, $$$"""{"models":[{"name":"{{{model}}}:latest","model":"{{{model}}}:latest","modified_at":"2024-10-01T00:00:00Z","size":1,"digest":"d","details":{}}]}""");
            return;
        }

        var request = JsonNode.Parse(await BodyAsync(context))!;
        string Line(string piece, bool done) => done
            ? $$"""{"model":"{{model}}","created_at":"2024-10-01T16:15:24Z","message":{"role":"assistant","content":{{JsonSerializer.Serialize(piece)}}},"done_reason":"stop","done":true,"prompt_eval_count":11,"eval_count":20}"""
            : $$"""{"model":"{{model}}","created_at":"2024-10-01T16:15:20Z","message":{"role":"assistant","content":{{JsonSerializer.Serialize(piece)}}},"done":false}""";
        if (request["stream"]?.GetValue<bool>() == false)
        {
            await JsonAsync(context, Line(text, done: true));
            return;
        }

        var half = text.Length / 2;
        context.Response.ContentType = "application/x-ndjson";
        await LoopbackServer.WritePiecesAsync(context, [Line(text[..half], false) + "\n", Line(text[half..], false) + "\n", Line(string.Empty, true) + "\n"]);
    };
}
