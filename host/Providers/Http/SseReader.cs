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
    public static async IAsyncEnumerable<SseEvent> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
        string eventType = "message";
        var data = new StringBuilder();
        var hasData = false;
        var rawJson = new StringBuilder();

        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (rawJson.Length > 0)
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
                if (hasData)
                {
                    yield return new SseEvent(eventType, data.ToString());
                }

                eventType = "message";
                data.Clear();
                hasData = false;
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            if (line[0] is '{' or '[')
            {
                if (hasData)
                {
                    yield return new SseEvent(eventType, data.ToString());
                    eventType = "message";
                    data.Clear();
                    hasData = false;
                }

                rawJson.Append(line);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            if (value.Length > 0 && value[0] == ' ')
            {
                value = value[1..];
            }

            switch (field)
            {
                case "data":
                    if (hasData)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    hasData = true;
                    break;
                case "event":
                    eventType = value;
                    break;
                default:
                    break;
            }
        }

        if (rawJson.Length > 0)
        {
            yield return new SseEvent("raw", rawJson.ToString());
        }
        else if (hasData)
        {
            yield return new SseEvent(eventType, data.ToString());
        }
    }
}
