using System.Net;
using System.Net.Http.Headers;

namespace Ally.Bench;

/// <summary>An HTTP handler that answers every request with the same bytes from memory: the client's parsing, alone.</summary>
internal sealed class MemoryHandler(byte[] body, string contentType) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not null)
        {
            await request.Content.LoadIntoBufferAsync(cancellationToken);
        }

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
    }
}
