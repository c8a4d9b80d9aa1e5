using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Ally.Host.Providers.Http;

/// <summary>Reads how long a provider asked the caller to wait, in every form providers send it.</summary>
/// <remarks>
/// Forms seen on the wire (PROVIDER-QUIRKS.md): <c>retry-after</c> in seconds or as an HTTP date,
/// <c>retry-after-ms</c>, Go durations such as <c>6m0s</c> in <c>x-ratelimit-reset-*</c>, RFC 3339 timestamps in
/// <c>anthropic-ratelimit-*-reset</c>, Gemini's <c>RetryInfo.retryDelay: "26s"</c>, and message text such as
/// "try again in 114h18m0s". Callers cap the result; this only parses.
/// </remarks>
internal static partial class RetryAfterParser
{
    /// <summary>Reads the wait from response headers, or <see langword="null"/> when none is given.</summary>
    public static TimeSpan? FromHeaders(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (TryGet(headers, "retry-after-ms", out var ms) &&
            double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        if (headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta;
            }

            if (retryAfter.Date is { } date)
            {
                var wait = date - now;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        if (TryGet(headers, "retry-after", out var raw) &&
            double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            // Some servers send fractional seconds, which HttpResponseHeaders.RetryAfter does not accept.
            return TimeSpan.FromSeconds(seconds);
        }

        TimeSpan? longest = null;
        foreach (var name in ResetHeaders)
        {
            if (TryGet(headers, name, out var value) && Parse(value, now) is { } reset && (longest is null || reset > longest))
            {
                longest = reset;
            }
        }

        return longest;
    }

    /// <summary>Parses one value: seconds, a Go duration, an RFC 3339 timestamp, or an HTTP date.</summary>
    public static TimeSpan? Parse(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds >= 0 ? TimeSpan.FromSeconds(seconds) : null;
        }

        if (ParseGoDuration(value) is { } duration)
        {
            return duration;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            var wait = at - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>Parses a Go duration (<c>1h2m3.5s</c>, <c>250ms</c>, <c>0s</c>), or returns <see langword="null"/>.</summary>
    public static TimeSpan? ParseGoDuration(string value)
    {
        var match = GoDuration().Match(value.Trim());
        if (!match.Success || match.Length == 0)
        {
            return null;
        }

        double totalMs = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitMatch = GoPart().Match(part.Value);
            var number = double.Parse(unitMatch.Groups["n"].Value, CultureInfo.InvariantCulture);
            totalMs += unitMatch.Groups["u"].Value switch
            {
                "h" => number * 3_600_000,
                "m" => number * 60_000,
                "s" => number * 1_000,
                "ms" => number,
                "us" or "µs" => number / 1_000,
                "ns" => number / 1_000_000,
                _ => 0,
            };
        }

        return TimeSpan.FromMilliseconds(totalMs);
    }

    /// <summary>Finds a wait stated in an error message ("try again in 20s", "Please retry in 26.5s").</summary>
    public static TimeSpan? FromMessage(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return null;
        }

        var match = InMessage().Match(message);
        return match.Success ? ParseGoDuration(match.Groups["d"].Value) : null;
    }

    private static bool TryGet(HttpResponseHeaders headers, string name, out string value)
    {
        if (headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { } first)
        {
            value = first;
            return true;
        }

        value = string.Empty;
        return false;
    }

    private static readonly string[] ResetHeaders =
    [
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-input-tokens-reset",
        "anthropic-ratelimit-output-tokens-reset",
    ];

    [GeneratedRegex(@"^(?<part>\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"^(?<n>\d+(?:\.\d+)?)(?<u>h|ms|m|s|us|µs|ns)$")]
    private static partial Regex GoPart();

    [GeneratedRegex(@"(?:try again|retry) in (?<d>(?:\d+(?:\.\d+)?(?:h|ms|m|s))+)", RegexOptions.IgnoreCase)]
    private static partial Regex InMessage();
}
