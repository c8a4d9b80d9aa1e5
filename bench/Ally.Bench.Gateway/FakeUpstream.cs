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
    private static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}""");

    private static readonly byte[][] StreamEvents =
    [
        .. new[] { "Hello", "!", " How", " can", " I", " help", "?" }.Select((piece, i) => Encoding.UTF8.GetBytes(
            "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{" +
            (i == 0 ? "\"role\":\"assistant\"," : string.Empty) + "\"content\":\"" + piece + "\"},\"finish_reason\":null}]}\n\n")),
        Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"),
        Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}\n\n"),
        "data: [DONE]\n\n"u8.ToArray(),
    ];

    private readonly WebApplication _app;

    /// <summary>Gets or sets how long the upstream "thinks" before answering (and before the first streamed piece).</summary>
    public static TimeSpan Delay { get; set; }

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

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        if (!stream)
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = Completion.Length;
            await context.Response.BodyWriter.WriteAsync(Completion);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var piece in StreamEvents)
        {
            await context.Response.BodyWriter.WriteAsync(piece);
        }
    }

    private static bool Contains(System.Buffers.ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> needle) =>
        buffer.IsSingleSegment ? buffer.FirstSpan.IndexOf(needle) >= 0 : System.Buffers.BuffersExtensions.ToArray(buffer).AsSpan().IndexOf(needle) >= 0;
}
