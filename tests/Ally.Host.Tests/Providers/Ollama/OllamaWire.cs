using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Ollama;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Providers.Ollama;

/// <summary>Writes what a real Ollama server writes, and builds clients pointed at a loopback server.</summary>
internal static class OllamaWire
{
    public const string Key = "sk-ollama-proxy-SECRET-4242";

    public static OllamaChatClient Client(LoopbackServer server, string? apiKey = null, TimeSpan? timeout = null, string model = "llama3.1") =>
        new(new ProviderSettings
        {
            Name = "ollama",
            Model = model,
            BaseUrl = server.BaseAddress,
            ApiKey = apiKey,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        });

    /// <summary>Answers like Ollama's Gin handlers: JSON with a charset.</summary>
    public static Task JsonAsync(HttpContext context, string body, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>Streams one object a line, flushing each line, as <c>/api/chat</c> does with <c>stream: true</c>.</summary>
    public static Task NdjsonAsync(HttpContext context, params string[] lines)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-ndjson";
        return LoopbackServer.WritePiecesAsync(context, lines.Select(l => l + "\n"));
    }

    public static string Chunk(string content, string model = "llama3.1") =>
        $$"""{"model":"{{model}}","created_at":"2024-10-01T16:15:20.4965315Z","message":{"role":"assistant","content":{{JsonValue.Create(content).ToJsonString()}}},"done":false}""";

    public static string Done(string doneReason = "stop", int prompt = 11, int eval = 20) =>
        $$"""{"model":"llama3.1","created_at":"2024-10-01T16:15:24.2514508Z","message":{"role":"assistant","content":""},"done_reason":"{{doneReason}}","done":true,"total_duration":11912402900,"load_duration":6824559200,"prompt_eval_count":{{prompt}},"prompt_eval_duration":1329601000,"eval_count":{{eval}},"eval_duration":3754262000}""";

    public static JsonObject Body(LoopbackServer server) => JsonNode.Parse(server.LastRequest.Body)!.AsObject();
}
