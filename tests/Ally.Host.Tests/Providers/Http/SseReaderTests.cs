using System.Text;
using Ally.Host.Providers.Http;

namespace Ally.Host.Tests.Providers.Http;

public sealed class SseReaderTests
{
    [Fact]
    public async Task ReadAsync_MixedLineEndingsCommentsAndMultiLineData_YieldsEvents()
    {
        // Given a stream with \r\n, \n, a comment, a multi-line data field and an unterminated last event
        var text = ": keep-alive\r\nevent: content-delta\r\ndata: {\"a\":1}\r\n\r\ndata: line one\ndata: line two\n\nevent: message-end\ndata:{\"b\":2}";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        // When it is read
        var events = new List<SseEvent>();
        await foreach (var item in SseReader.ReadAsync(stream, TestContext.Current.CancellationToken))
        {
            events.Add(item);
        }

        // Then every event comes out, the last one too
        Assert.Equal(
            [new SseEvent("content-delta", "{\"a\":1}"), new SseEvent("message", "line one\nline two"), new SseEvent("message-end", "{\"b\":2}")],
            events);
    }

    [Fact]
    public async Task ReadAsync_BareJsonLine_IsKeptAsData()
    {
        // Given an error body written into the stream without a data: prefix
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("{\"message\":\"boom\"}\n\n"));

        // When it is read
        var events = new List<SseEvent>();
        await foreach (var item in SseReader.ReadAsync(stream, TestContext.Current.CancellationToken))
        {
            events.Add(item);
        }

        // Then it is one event of type "raw" carrying the JSON, for the protocol to read as an in-band error
        Assert.Equal([new SseEvent("raw", "{\"message\":\"boom\"}")], events);
    }

    [Fact]
    public async Task ReadAsync_FieldEdgeCases_FollowTheSpec()
    {
        // Given data with no space after the colon, two leading spaces (one is kept), an empty data line, a field
        // without a colon, unknown fields, three data lines, and a line longer than the reader's buffer
        var longValue = new string('x', 5000);
        var text = "data:a\n\ndata:  b\nid: 7\nretry: 10\n\ndata:\n\ndata\n\nevent: e\ndata: 1\ndata: 2\ndata: 3\n\ndata: " + longValue + "\n\n";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        // When it is read
        var events = new List<SseEvent>();
        await foreach (var item in SseReader.ReadAsync(stream, TestContext.Current.CancellationToken))
        {
            events.Add(item);
        }

        // Then
        Assert.Equal(
            [
                new SseEvent("message", "a"), new SseEvent("message", " b"), new SseEvent("message", string.Empty), new SseEvent("message", string.Empty),
                new SseEvent("e", "1\n2\n3"), new SseEvent("message", longValue),
            ],
            events);
    }
}
