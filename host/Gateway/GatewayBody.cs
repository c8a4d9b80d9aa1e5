using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Gateway;

/// <summary>
/// Reads a JSON request body up to the gateway's limit straight from the request pipe. A larger body gets 413 after
/// the rest is read and dropped: closing a connection with unread request bytes makes TCP reset it, and the client
/// would then lose the 413. Kestrel's own limit (<see cref="KestrelLimit"/>) bounds what is dropped.
/// </summary>
internal static class GatewayBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128 };

    /// <summary>Gets Kestrel's hard limit for a gateway limit: room to drain a moderately larger body cleanly.</summary>
    public static long KestrelLimit(long limit) => limit + Math.Max(limit, 64 * 1024);

    /// <summary>Parses the body (dispose it as soon as it is read); throws a <see cref="GatewayException"/> (413 or 400) when it is too large or not JSON.</summary>
    public static async Task<JsonBody> ReadJsonAsync(HttpContext context, long limit)
    {
        var cancellationToken = context.RequestAborted;
        var reader = context.Request.BodyReader;
        try
        {
            if (context.Request.ContentLength > limit)
            {
                throw await TooLargeAsync(reader, limit, cancellationToken);
            }

            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (buffer.Length > limit)
                {
                    reader.AdvanceTo(buffer.End);
                    throw await TooLargeAsync(reader, limit, cancellationToken);
                }

                if (result.IsCompleted)
                {
                    JsonDocument document;
                    try
                    {
                        document = JsonDocument.Parse(buffer, DocumentOptions);
                    }
                    catch (JsonException)
                    {
                        reader.AdvanceTo(buffer.End);
                        throw new GatewayException(GatewayError.BadRequest("The request body is not valid JSON.", code: "invalid_json"));
                    }

                    // The document may point into the pipe's memory: the buffer is released when the body is disposed.
                    return new JsonBody(document, reader, buffer.End);
                }

                // Nothing consumed, everything examined: wait for more.
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new GatewayException(GatewayErrors.TooLarge(limit));
        }
    }

    private static async Task<GatewayException> TooLargeAsync(PipeReader reader, long limit, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (BadHttpRequestException)
        {
            // Beyond Kestrel's own limit: the connection will be closed, and the client may see a reset instead.
        }

        return new GatewayException(GatewayErrors.TooLarge(limit));
    }
}
