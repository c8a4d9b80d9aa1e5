using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Ally.Host.Gateway;

/// <summary>Writes JSON bodies straight to the response with <see cref="Utf8JsonWriter"/>: no DOM, no reflection.</summary>
internal static class GatewayJson
{
    // The bodies are JSON for API clients, never embedded in HTML, so the HTML-safe escaping of the default
    // encoder would only lengthen non-ASCII text.
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string JsonContentType = "application/json";

    // One buffer and writer per thread, used only between an await and the next: the body is written and copied
    // synchronously.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _threadBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _threadWriter;

    /// <summary>
    /// Writes a JSON body with <paramref name="write"/>, with a Content-Length: the body is built in a per-thread
    /// buffer first, so that the response is complete without a closing chunk (Kestrel may close the connection
    /// right after an error answer, for example to a request whose body it refuses to read).
    /// </summary>
    public static Task WriteAsync<TState>(HttpContext context, int status, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var response = context.Response;
        var buffer = _threadBuffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        WriteBody(buffer, state, write);
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > 1024 * 1024)
        {
            // Keep no huge buffer alive after an unusually large answer.
            _threadBuffer = null;
        }

        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }

    /// <summary>Answers with an OpenAI-style error and, for 429 and 503, <c>Retry-After</c> in whole seconds.</summary>
    public static Task WriteErrorAsync(HttpContext context, GatewayError error)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        if (error.RetryAfter is { } retryAfter)
        {
            context.Response.Headers[HeaderNames.RetryAfter] = RetryAfterSeconds(retryAfter);
        }

        return WriteAsync(context, error.Status, error, WriteError);
    }

    public static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    public static void WriteError(Utf8JsonWriter writer, GatewayError error)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", error.Message);
        writer.WriteString("type", error.Type);
        if (error.Param is null)
        {
            writer.WriteNull("param");
        }
        else
        {
            writer.WriteString("param", error.Param);
        }

        writer.WriteString("code", error.Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteBody<TState>(IBufferWriter<byte> output, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var writer = _threadWriter;
        if (writer is null)
        {
            _threadWriter = writer = new Utf8JsonWriter(output, WriterOptions);
        }
        else
        {
            writer.Reset(output);
        }

        try
        {
            write(writer, state);
            writer.Flush();
        }
        catch
        {
            // A writer left mid-document must not be reused.
            _threadWriter = null;
            throw;
        }
    }
}
