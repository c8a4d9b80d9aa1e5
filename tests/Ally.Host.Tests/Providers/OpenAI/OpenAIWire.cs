using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.OpenAI;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Providers.OpenAI;

/// <summary>Writes what an OpenAI-compatible server writes, byte for byte, and builds clients pointed at a loopback server.</summary>
public static class OpenAIWire
{
    public const string ApiKey = "sk-test-SECRET-0123456789abcdef";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Content-Length", "Connection", "Keep-Alive",
    };

    internal static OpenAIChatClient CreateClient(LoopbackServer server, Func<ProviderSettings, ProviderSettings>? configure = null, bool azure = false)
    {
        var settings = new ProviderSettings
        {
            Name = azure ? "azure" : "openai",
            Model = "gpt-4o-mini",

            // No trailing slash on purpose: the client must keep the version segment.
            BaseUrl = azure ? server.BaseAddress : new Uri(server.BaseAddress, "v1"),
            ApiKey = ApiKey,
            Timeout = TimeSpan.FromSeconds(30),
        };
        return new OpenAIChatClient(configure?.Invoke(settings) ?? settings, azure);
    }

    public static Dictionary<string, string> Values(params (string Key, string Value)[] values)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in values)
        {
            result[key] = value;
        }

        return result;
    }

    /// <summary>Frames JSON payloads as OpenAI does: <c>data: {json}</c> and a blank line each, then <c>data: [DONE]</c>.</summary>
    public static string[] Sse(params string[] payloads) =>
        [.. payloads.Select(p => $"data: {p}\n\n"), "data: [DONE]\n\n"];

    /// <summary>Frames JSON payloads without the closing <c>[DONE]</c>.</summary>
    public static string[] SseWithoutDone(params string[] payloads) =>
        [.. payloads.Select(p => $"data: {p}\n\n")];

    /// <summary>Frames a <c>*.chunks.jsonl</c> fixture as the README says: each line as an event, then <c>[DONE]</c>.</summary>
    public static string[] FromJsonLines(string jsonl) =>
        Sse([.. jsonl.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)]);

    /// <summary>Splits a recorded <c>*.sse</c> body into its events, keeping every byte.</summary>
    public static string[] SplitSse(string body)
    {
        var pieces = new List<string>();
        var start = 0;
        int end;
        while ((end = body.IndexOf("\n\n", start, StringComparison.Ordinal)) >= 0)
        {
            pieces.Add(body[start..(end + 2)]);
            start = end + 2;
        }

        if (start < body.Length)
        {
            pieces.Add(body[start..]);
        }

        return [.. pieces];
    }

    public static string Chunk(string delta, string? finishReason = null, string id = "chatcmpl-1", string model = "gpt-4o-mini")
    {
        var finish = finishReason is null ? "null" : $"\"{finishReason}\"";
        return $$"""{"id":"{{id}}","object":"chat.completion.chunk","created":1727346171,"model":"{{model}}","choices":[{"index":0,"delta":{{delta}},"logprobs":null,"finish_reason":{{finish}}""" + "}]}";
    }

    public static string UsageChunk(int prompt, int completion, int total, string id = "chatcmpl-1") =>
        $$"""{"id":"{{id}}","object":"chat.completion.chunk","created":1727346171,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":{{prompt}},"completion_tokens":{{completion}},"total_tokens":{{total}}""" + "}}";

    public static string Completion(string message, string finishReason = "stop", string usage = """{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}""") =>
        $$"""
        {
          "id": "chatcmpl-abc",
          "object": "chat.completion",
          "created": 1758038959,
          "model": "gpt-4o-mini-2024-07-18",
          "choices": [{"index": 0, "message": {{message}}, "logprobs": null, "finish_reason": "{{finishReason}}"}],
          "usage": {{usage}}
        }
        """;

    public static async Task WriteJsonAsync(HttpContext context, string body, int status = 200, params (string Name, string Value)[] headers)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in headers)
        {
            context.Response.Headers.Append(name, value);
        }

        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    public static async Task WriteSseAsync(HttpContext context, IEnumerable<string> pieces, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        await LoopbackServer.WritePiecesAsync(context, pieces);
    }

    /// <summary>Replays a recorded <c>*.headers</c> file (status line and headers) and then the body.</summary>
    public static async Task WriteRecordedAsync(HttpContext context, string? headersFile, IEnumerable<string> bodyPieces, string defaultContentType = "application/json")
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = defaultContentType;
        if (headersFile is not null)
        {
            var lines = headersFile.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
            context.Response.StatusCode = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (HopByHop.Contains(name))
                {
                    continue;
                }

                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.ContentType = value;
                }
                else
                {
                    context.Response.Headers.Append(name, value);
                }
            }
        }

        await LoopbackServer.WritePiecesAsync(context, bodyPieces);
    }

    public static JsonElement Body(RecordedRequest request)
    {
        using var document = JsonDocument.Parse(request.Body);
        return document.RootElement.Clone();
    }

    public static string Compact(string json)
    {
        using var document = JsonDocument.Parse(json);
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            document.RootElement.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
