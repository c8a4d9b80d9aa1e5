using System.Buffers.Text;

namespace Ally.Bench.Gateway;

/// <summary>
/// The upstream's own time for one answer, written into the answer's text as <c> hold########us</c> (microseconds,
/// eight digits) and found again by the load generator in what it reads, through the gateway or not.
/// </summary>
internal static class HoldMarker
{
    private const int Digits = 8;

    /// <summary>Gets the marker's length in bytes: " hold", eight digits, "us".</summary>
    public static int Length => Prefix.Length + Digits + 2;

    private static ReadOnlySpan<byte> Prefix => " hold"u8;

    public static void Write(Span<byte> destination, TimeSpan hold)
    {
        Prefix.CopyTo(destination);
        var micros = Math.Clamp((long)hold.TotalMicroseconds, 0, 99_999_999);
        Utf8Formatter.TryFormat(micros, destination[Prefix.Length..], out _, new System.Buffers.StandardFormat('D', Digits));
        "us"u8.CopyTo(destination[(Prefix.Length + Digits)..]);
    }

    /// <summary>Finds a marker in <paramref name="read"/> and returns the hold it carries in ms, or null when there is none (yet).</summary>
    public static double? Find(ReadOnlySpan<byte> read)
    {
        var at = read.IndexOf(Prefix);
        if (at < 0 || read.Length - at < Length || !Utf8Parser.TryParse(read.Slice(at + Prefix.Length, Digits), out long micros, out var used) || used != Digits)
        {
            return null;
        }

        return micros / 1000.0;
    }
}
