using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Gemini;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Gemini;

/// <summary>Speaks Gemini's wire format from the loopback server, and builds clients pointed at it.</summary>
internal static class GeminiWire
{
    public const string ApiKey = "AIzaTestKey-0123456789";

    public static Task<LoopbackServer> StartJsonAsync(string body, int status = 200, CancellationToken cancellationToken = default, Action<HttpResponse>? headers = null) =>
        LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json; charset=UTF-8";
                headers?.Invoke(context.Response);
                await context.Response.WriteAsync(body, context.RequestAborted);
            },
            cancellationToken);

    public static Task<LoopbackServer> StartSseAsync(string body, CancellationToken cancellationToken = default) =>
        StartSseAsync([body], cancellationToken);

    public static Task<LoopbackServer> StartSseAsync(IEnumerable<string> pieces, CancellationToken cancellationToken = default) =>
        LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, pieces);
            },
            cancellationToken);

    /// <summary>Frames one <c>*.chunks.jsonl</c> line the way the Gemini API does (<c>\r\n\r\n</c> after each event).</summary>
    public static string FrameChunks(string jsonl) =>
        string.Concat(jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => "data: " + line.TrimEnd('\r') + "\r\n\r\n"));

    /// <summary>Frames JSON chunks as SSE events separated by <c>\r\n\r\n</c>, as Gemini sends them.</summary>
    public static string Sse(params string[] chunks) => string.Concat(chunks.Select(c => "data: " + c + "\r\n\r\n"));

    public static GeminiChatClient NewClient(LoopbackServer server, string? apiKey = ApiKey, TimeSpan? timeout = null, string? model = "gemini-2.0-flash", string? baseSuffix = null) =>
        new(new ProviderSettings
        {
            Name = "gemini",
            BaseUrl = baseSuffix is null ? server.BaseAddress : new Uri(server.BaseAddress, baseSuffix),
            Model = model,
            ApiKey = apiKey,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        });

    public static JsonElement Body(RecordedRequest request) => JsonDocument.Parse(request.Body).RootElement.Clone();

    public static async Task<List<ChatResponseUpdate>> CollectAsync(IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var list = new List<ChatResponseUpdate>();
        await foreach (var update in updates)
        {
            list.Add(update);
        }

        return list;
    }

    public static string Text(IEnumerable<ChatResponseUpdate> updates)
    {
        var text = new StringBuilder();
        foreach (var update in updates)
        {
            foreach (var content in update.Contents.OfType<TextContent>())
            {
                text.Append(content.Text);
            }
        }

        return text.ToString();
    }

    public static UsageDetails? Usage(IEnumerable<ChatResponseUpdate> updates) =>
        updates.SelectMany(u => u.Contents).OfType<UsageContent>().LastOrDefault()?.Details;

    public static string TextResponse(string text, string finishReason = "STOP") =>
        $$"""
        {
          "candidates": [{"content": {"parts": [{"text": {{JsonSerializer.Serialize(text)}}}], "role": "model"}, "finishReason": "{{finishReason}}", "index": 0}],
          "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8},
          "modelVersion": "gemini-2.0-flash-001",
          "responseId": "resp-1"
        }
        """;

    public static string Error(int code, string status, string message, string details = "") =>
        $$"""
        {
          "error": {
            "code": {{code}},
            "message": {{JsonSerializer.Serialize(message)}},
            "status": "{{status}}",
            "details": [{{details}}]
          }
        }
        """;
}
