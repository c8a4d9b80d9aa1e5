using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ally.Bench.Gateway;

/// <summary>
/// The fastest OpenAI-compatible server we can make: fixed bytes for a small answer, or a fixed stream of chunks,
/// so that what the benchmark measures is the gateway, not the upstream.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    // Every answer carries the upstream's own time for it (from the request's arrival to its first answer byte) as
    // " hold########us" in its first content text: the load generator subtracts it, so the upstream's timer jitter
    // (Task.Delay wakes up late by up to several ms) drops out of both the direct and the gateway latency.
    private static readonly byte[] CompletionHead = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?""");

    private static readonly byte[] CompletionTail = Encoding.UTF8.GetBytes(
        "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":9,\"total_tokens\":18}}");

    private static readonly byte[] FirstEventHead = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello");

    private static readonly byte[] FirstEventTail = Encoding.UTF8.GetBytes("\"},\"finish_reason\":null}]}\n\n");

    private static readonly byte[][] LaterEvents =
    [
        .. new[] { "!", " How", " can", " I", " help", "?" }.Select(piece => Encoding.UTF8.GetBytes(
            "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + piece + "\"},\"finish_reason\":null}]}\n\n")),
        Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"),
        Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}\n\n"),
        "data: [DONE]\n\n"u8.ToArray(),
    ];

    private readonly WebApplication _app;

    /// <summary>Gets or sets how long the upstream "thinks" before answering (and before the first streamed piece).</summary>
    public static TimeSpan Delay { get; set; }

    /// <summary>
    /// Gets or sets how far each request's think time may stray from <see cref="Delay"/> (uniformly, either way), as a
    /// model's time varies from call to call: without it every worker of a closed loop waits exactly as long, so their
    /// requests stay in lockstep and reach the gateway in bursts.
    /// </summary>
    public static TimeSpan Jitter { get; set; }

    private FakeUpstream(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            o.Listen(IPAddress.Loopback, 0);
        });
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeUpstream(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var arrived = Stopwatch.GetTimestamp();

        // Read the request as a real server must; only "stream":true changes the answer.
        var body = context.Request.BodyReader;
        var stream = false;
        while (true)
        {
            var result = await body.ReadAsync();
            if (result.IsCompleted)
            {
                stream = Contains(result.Buffer, "\"stream\":true"u8);
                body.AdvanceTo(result.Buffer.End);
                break;
            }

            body.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        var delay = Jitter > TimeSpan.Zero ? Delay + ((Random.Shared.NextDouble() * 2) - 1) * Jitter : Delay;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay);
        }

        if (!stream)
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = CompletionHead.Length + HoldMarker.Length + CompletionTail.Length;
            WriteWithHold(context.Response.BodyWriter, CompletionHead, arrived, CompletionTail);
            await context.Response.BodyWriter.FlushAsync();
            return;
        }

        context.Response.ContentType = "text/event-stream";
        WriteWithHold(context.Response.BodyWriter, FirstEventHead, arrived, FirstEventTail);
        await context.Response.BodyWriter.FlushAsync();
        foreach (var piece in LaterEvents)
        {
            await context.Response.BodyWriter.WriteAsync(piece);
        }
    }

    private static void WriteWithHold(PipeWriter writer, byte[] head, long arrived, byte[] tail)
    {
        var span = writer.GetSpan(head.Length + HoldMarker.Length + tail.Length);
        head.CopyTo(span);
        HoldMarker.Write(span[head.Length..], Stopwatch.GetElapsedTime(arrived));
        tail.CopyTo(span[(head.Length + HoldMarker.Length)..]);
        writer.Advance(head.Length + HoldMarker.Length + tail.Length);
    }

    private static bool Contains(System.Buffers.ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> needle) =>
        buffer.IsSingleSegment ? buffer.FirstSpan.IndexOf(needle) >= 0 : System.Buffers.BuffersExtensions.ToArray(buffer).AsSpan().IndexOf(needle) >= 0;
}
