using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Ally.Host.Gateway;

/// <summary>
/// Frames JSON payloads as server-sent events (<c>data: {json}\n\n</c>) straight into the response pipe, reusing
/// one <see cref="Utf8JsonWriter"/> for the whole stream.
/// </summary>
internal sealed class SseChunkWriter : IDisposable
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    private static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    private readonly HttpContext _context;
    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;

    public SseChunkWriter(HttpContext context)
    {
        _context = context;
        _pipe = context.Response.BodyWriter;
        _json = new Utf8JsonWriter(_pipe, GatewayJson.WriterOptions);
    }

    /// <summary>Sends the status and headers of an event stream.</summary>
    public void Start()
    {
        var response = _context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers[HeaderNames.CacheControl] = "no-cache";

        // Reverse proxies such as nginx buffer responses unless told not to, which would hold every token back.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public void WriteEvent<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        _pipe.Write(DataPrefix);
        _json.Reset(_pipe);
        write(_json, state);
        _json.Flush();
        _pipe.Write(EventEnd);
    }

    public void WriteDone() => _pipe.Write(Done);

    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => _pipe.FlushAsync(cancellationToken);

    public void Dispose() => _json.Dispose();
}
