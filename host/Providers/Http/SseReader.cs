using System.Runtime.CompilerServices;
using System.Text;

namespace Ally.Host.Providers.Http;

/// <summary>One server-sent event: its <c>event:</c> type (or <c>message</c>) and its joined <c>data:</c> lines.</summary>
internal readonly record struct SseEvent(string EventType, string Data);

/// <summary>Reads a <c>text/event-stream</c> leniently, yielding each event as soon as its blank line arrives.</summary>
/// <remarks>
/// System.Net.ServerSentEvents' parser follows the spec and drops an event that is not closed by a blank line, and
/// ignores lines without a field name. Real streams do both: Anthropic streams can end right after
/// <c>message_stop</c> with no blank line, and Gemini can write a bare error JSON mid-stream with no <c>data:</c>
/// prefix (PROVIDER-QUIRKS.md). This reader keeps both: an unterminated last event is still yielded, and a line
/// that starts with <c>{</c> outside any field is yielded as an event of type <c>raw</c>.
/// </remarks>
internal static class SseReader
{
    // Events are small (a chunk is a few hundred bytes), and the reader's buffers are allocated for every stream: 1 KiB
    // of bytes (and 2 KiB of chars) keeps a stream's fixed cost low, and a longer line is still read whole.
    private const int BufferSize = 1024;

    public static async IAsyncEnumerable<SseEvent> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: BufferSize, leaveOpen: true);
        var eventType = "message";
        var data = new EventData();
        StringBuilder? rawJson = null;

        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (rawJson is { Length: > 0 })
            {
                // A bare JSON error may span several lines (pretty-printed); collect until a blank line.
                if (line.Length == 0)
                {
                    yield return new SseEvent("raw", rawJson.ToString());
                    rawJson.Clear();
                }
                else
                {
                    rawJson.Append('\n').Append(line);
                }

                continue;
            }

            if (line.Length == 0)
            {
                if (data.Any)
                {
                    yield return new SseEvent(eventType, data.Take());
                }

                eventType = "message";
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            if (line[0] is '{' or '[')
            {
                if (data.Any)
                {
                    yield return new SseEvent(eventType, data.Take());
                    eventType = "message";
                }

                (rawJson ??= new StringBuilder()).Append(line);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line.AsSpan() : line.AsSpan(0, colon);
            if (field.SequenceEqual("data"))
            {
                data.Add(ValueOf(line, colon));
            }
            else if (field.SequenceEqual("event"))
            {
                eventType = ValueOf(line, colon);
            }
        }

        if (rawJson is { Length: > 0 })
        {
            yield return new SseEvent("raw", rawJson.ToString());
        }
        else if (data.Any)
        {
            yield return new SseEvent(eventType, data.Take());
        }
    }

    /// <summary>The text after the field's colon, less one leading space (the spec's rule); empty without a colon.</summary>
    private static string ValueOf(string line, int colon)
    {
        if (colon < 0)
        {
            return string.Empty;
        }

        var start = colon + 1;
        if (start < line.Length && line[start] == ' ')
        {
            start++;
        }

        return line[start..];
    }

    /// <summary>
    /// The data lines of the event being read. Nearly every event has one, which is yielded as it was read; only a
    /// second line brings in a builder to join them.
    /// </summary>
    private sealed class EventData
    {
        private string? _first;
        private StringBuilder? _joined;

        public bool Any => _first is not null;

        public void Add(string value)
        {
            if (_first is null)
            {
                _first = value;
                return;
            }

            _joined ??= new StringBuilder();
            if (_joined.Length == 0)
            {
                _joined.Append(_first);
            }

            _joined.Append('\n').Append(value);
        }

        public string Take()
        {
            var value = _joined is { Length: > 0 } ? _joined.ToString() : _first!;
            _first = null;
            _joined?.Clear();
            return value;
        }
    }
}
