using System.Runtime.CompilerServices;
using System.Text;

namespace Ally.Plugins.Cohere;

/// <summary>Reads a <c>text/event-stream</c> leniently, yielding each event as soon as its blank line arrives.</summary>
/// <remarks>
/// The plugin cannot use the host's reader (the host is not referenced), so it carries this small one.
/// <see cref="StreamReader.ReadLineAsync(CancellationToken)"/> accepts <c>\n</c>, <c>\r\n</c> and <c>\r</c>, and an
/// event left open when the stream ends (no final blank line) is still yielded rather than dropped.
/// </remarks>
internal static class SseReader
{
    private const string DefaultEventType = "message";

    public static async IAsyncEnumerable<SseEvent> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);

        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
        var eventType = DefaultEventType;
        var data = new StringBuilder();
        var hasData = false;

        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData)
                {
                    yield return new SseEvent(eventType, data.ToString());
                }

                eventType = DefaultEventType;
                data.Clear();
                hasData = false;
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            if (line[0] is '{' && !hasData)
            {
                // A bare JSON line with no field name (an error body written into the stream): keep it as data.
                data.Append(line);
                hasData = true;
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
                    eventType = value.Length > 0 ? value : DefaultEventType;
                    break;
                default:
                    break;
            }
        }

        if (hasData)
        {
            yield return new SseEvent(eventType, data.ToString());
        }
    }
}
