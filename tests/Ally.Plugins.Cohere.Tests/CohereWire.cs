using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere.Tests;

/// <summary>Writes Cohere's wire format from a loopback server and builds clients pointed at it.</summary>
internal static class CohereWire
{
    public const string ApiKey = "co-test-key-0123456789abcdef";

    public static IChatClient Client(LoopbackServer server, TimeSpan? timeout = null, string? model = "command-a-03-2025") =>
        new CoherePlugin().CreateClient(Settings(server.BaseAddress, timeout, model));

    public static ProviderSettings Settings(Uri baseUrl, TimeSpan? timeout = null, string? model = "command-a-03-2025") => new()
    {
        Name = "cohere",
        BaseUrl = baseUrl,
        ApiKey = ApiKey,
        Model = model,
        Timeout = timeout ?? TimeSpan.FromSeconds(30),
    };

    public static async Task WriteJsonAsync(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>One SSE event as Cohere frames it: an <c>event:</c> line naming the type, then one <c>data:</c> line.</summary>
    public static string Event(string type, string json) => $"event: {type}\ndata: {json}\n\n";

    public static async Task StartSseAsync(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public static async Task WriteSseAsync(HttpContext context, params string[] events)
    {
        await StartSseAsync(context);
        await LoopbackServer.WritePiecesAsync(context, events);
    }

    public static string MessageStart(string id = "29f14a5a-11de-4cae-9800-25e4747408ea") =>
        Event("message-start", """{"id":"ID","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}""".Replace("ID", id, StringComparison.Ordinal));

    public static string ContentStart(int index = 0) =>
        Event("content-start", """{"type":"content-start","index":INDEX,"delta":{"message":{"content":{"type":"text","text":""}}}}""".Replace("INDEX", Invariant(index), StringComparison.Ordinal));

    public static string ContentDelta(string jsonEscapedText, int index = 0) =>
        Event("content-delta", """{"type":"content-delta","index":INDEX,"delta":{"message":{"content":{"text":"TEXT"}}},"logprobs":null}""".Replace("INDEX", Invariant(index), StringComparison.Ordinal).Replace("TEXT", jsonEscapedText, StringComparison.Ordinal));

    public static string ContentEnd(int index = 0) =>
        Event("content-end", """{"type":"content-end","index":INDEX}""".Replace("INDEX", Invariant(index), StringComparison.Ordinal));

    public static string MessageEnd(string finishReason = "COMPLETE", int billedIn = 5, int billedOut = 7) =>
        Event("message-end", """{"type":"message-end","delta":{"finish_reason":"REASON","usage":{"billed_units":{"input_tokens":BIN,"output_tokens":BOUT},"tokens":{"input_tokens":TIN,"output_tokens":TOUT},"cached_tokens":0}}}"""
            .Replace("REASON", finishReason, StringComparison.Ordinal)
            .Replace("BIN", Invariant(billedIn), StringComparison.Ordinal)
            .Replace("BOUT", Invariant(billedOut), StringComparison.Ordinal)
            .Replace("TIN", Invariant(billedIn + 200), StringComparison.Ordinal)
            .Replace("TOUT", Invariant(billedOut + 1), StringComparison.Ordinal));

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
