using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Fakes;

/// <summary>
/// One loopback server that speaks all four protocols by path, each answering "Hello from X" plus one
/// <c>get_weather</c> tool call with usage 10/5/15, streamed or not as the request asks, in each wire format; a
/// non-streamed question containing <see cref="TwoCities"/> gets two parallel calls and no text.
/// </summary>
public static class FakeProviderServer
{
    public const string Key = "fake-provider-key-0123456789";

    /// <summary>Words that make the server answer with two parallel <c>get_weather</c> calls instead of one.</summary>
    public const string TwoCities = "Paris and Rome";

    public static Task<LoopbackServer> StartAsync(CancellationToken cancellationToken = default) =>
        LoopbackServer.StartAsync(HandleAsync, cancellationToken);

    /// <summary>config.json entries defining one provider per protocol on this server.</summary>
    public static string ProvidersConfig(LoopbackServer server)
    {
        var root = server.BaseAddress.ToString().TrimEnd('/');
        return $$"""
            {
              "fake-openai": { "type": "openai-compatible", "base_url": "{{root}}/v1", "api_key_env": "FAKE_KEY", "default_model": "gpt-x" },
              "fake-anthropic": { "type": "anthropic-compatible", "base_url": "{{root}}", "api_key_env": "FAKE_KEY", "default_model": "claude-x" },
              "fake-gemini": { "type": "gemini", "base_url": "{{root}}", "api_key_env": "FAKE_KEY", "default_model": "gemini-x" },
              "fake-ollama": { "type": "ollama", "base_url": "{{root}}", "default_model": "llama-x" }
            }
            """;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        var body = context.Request.ContentLength is > 0 ? await JsonDocument.ParseAsync(context.Request.Body) : null;
        var stream = body?.RootElement.TryGetProperty("stream", out var s) == true && s.ValueKind == JsonValueKind.True;

        // A question about two cities gets two parallel calls (answered whole, not streamed).
        if (body?.RootElement.GetRawText().Contains(TwoCities, StringComparison.Ordinal) == true && !stream)
        {
            await WriteParallelAsync(context, path);
            return;
        }

        if (path.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            await WriteAsync(context, stream ? "text/event-stream" : "application/json", stream ? OpenAIStream : [OpenAIJson]);
        }
        else if (path.EndsWith("/v1/messages", StringComparison.Ordinal))
        {
            await WriteAsync(context, stream ? "text/event-stream" : "application/json", stream ? AnthropicStream : [AnthropicJson]);
        }
        else if (path.Contains(":streamGenerateContent", StringComparison.Ordinal))
        {
            await WriteAsync(context, "text/event-stream", GeminiStream);
        }
        else if (path.Contains(":generateContent", StringComparison.Ordinal))
        {
            await WriteAsync(context, "application/json", [GeminiJson]);
        }
        else if (path == "/api/chat")
        {
            await WriteAsync(context, stream ? "application/x-ndjson" : "application/json", stream ? OllamaStream : [OllamaJson]);
        }
        else
        {
            context.Response.StatusCode = 404;
        }
    }

    private static async Task WriteParallelAsync(HttpContext context, string path)
    {
        var body = path switch
        {
            _ when path.EndsWith("/chat/completions", StringComparison.Ordinal) => OpenAIParallelJson,
            _ when path.EndsWith("/v1/messages", StringComparison.Ordinal) => AnthropicParallelJson,
            _ when path.Contains(":generateContent", StringComparison.Ordinal) => GeminiParallelJson,
            "/api/chat" => OllamaParallelJson,
            _ => null,
        };
        if (body is null)
        {
            context.Response.StatusCode = 404;
            return;
        }

        await WriteAsync(context, "application/json", [body]);
    }

    private static async Task WriteAsync(HttpContext context, string contentType, IEnumerable<string> pieces)
    {
        context.Response.ContentType = contentType;
        await LoopbackServer.WritePiecesAsync(context, pieces);
    }

    private const string OpenAIParallelJson = """
        {"id":"chatcmpl-2","object":"chat.completion","created":1700000000,"model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_p1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_p2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}
        """;

    private const string AnthropicParallelJson = """
        {"id":"msg_2","type":"message","role":"assistant","model":"claude-x","content":[{"type":"tool_use","id":"toolu_p1","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"toolu_p2","name":"get_weather","input":{"city":"Rome"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}
        """;

    private const string GeminiParallelJson = """
        {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"gemini-x","responseId":"r2"}
        """;

    private const string OllamaParallelJson = """
        {"model":"llama-x","created_at":"2025-06-01T10:00:00.123456789Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},{"function":{"name":"get_weather","arguments":{"city":"Rome"}}}]},"done":true,"done_reason":"stop","prompt_eval_count":10,"eval_count":5}
        """;

    private const string OpenAIJson = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from openai","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}
        """;

    private static readonly string[] OpenAIStream =
    [
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello \"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"from openai\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n",
        "data: [DONE]\n\n",
    ];

    private const string AnthropicJson = """
        {"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hello from anthropic"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}
        """;

    private static readonly string[] AnthropicStream =
    [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"from anthropic\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}",
    ];

    private const string GeminiJson = """
        {"candidates":[{"content":{"role":"model","parts":[{"text":"Hello from gemini"},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"gemini-x","responseId":"r1"}
        """;

    private static readonly string[] GeminiStream =
    [
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hello \"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":1,\"totalTokenCount\":11},\"modelVersion\":\"gemini-x\",\"responseId\":\"r1\"}\r\n\r\n",
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"from gemini\"},{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":5,\"totalTokenCount\":15},\"modelVersion\":\"gemini-x\",\"responseId\":\"r1\"}\r\n\r\n",
    ];

    private const string OllamaJson = """
        {"model":"llama-x","created_at":"2025-06-01T10:00:00.123456789Z","message":{"role":"assistant","content":"Hello from ollama","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":true,"done_reason":"stop","total_duration":1000,"prompt_eval_count":10,"eval_count":5}
        """;

    private static readonly string[] OllamaStream =
    [
        "{\"model\":\"llama-x\",\"created_at\":\"2025-06-01T10:00:00.1234567Z\",\"message\":{\"role\":\"assistant\",\"content\":\"Hello \"},\"done\":false}\n",
        "{\"model\":\"llama-x\",\"created_at\":\"2025-06-01T10:00:00.1234567Z\",\"message\":{\"role\":\"assistant\",\"content\":\"from ollama\",\"tool_calls\":[{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]},\"done\":false}\n",
        "{\"model\":\"llama-x\",\"created_at\":\"2025-06-01T10:00:00.123456789Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":5}\n",
    ];
}
