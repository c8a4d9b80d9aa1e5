using System.Collections.Concurrent;

namespace Ally.Host.Routing;

/// <summary>Moving averages of time to first token and total latency per <c>provider/model</c>, from live traffic. Thread-safe.</summary>
internal sealed class LatencyTracker
{
    // Weight of the newest sample: recent enough to follow a provider that slows down, smooth enough to ignore one outlier.
    private const double Alpha = 0.3;

    private readonly ConcurrentDictionary<string, Stats> _stats = new(StringComparer.OrdinalIgnoreCase);

    public void Record(string key, TimeSpan? timeToFirstToken, TimeSpan total)
    {
        var stats = _stats.GetOrAdd(key, static _ => new Stats());
        lock (stats)
        {
            if (timeToFirstToken is { } ttft)
            {
                stats.TimeToFirstTokenMs = stats.TimeToFirstTokenMs is { } old ? old + (Alpha * (ttft.TotalMilliseconds - old)) : ttft.TotalMilliseconds;
            }

            stats.TotalMs = stats.TotalMs is { } previous ? previous + (Alpha * (total.TotalMilliseconds - previous)) : total.TotalMilliseconds;
        }
    }

    /// <summary>Gets the score to sort by (lower is faster): time to first token for streams, total latency otherwise; <see langword="null"/> when never measured.</summary>
    public double? Score(string key, bool streaming)
    {
        if (!_stats.TryGetValue(key, out var stats))
        {
            return null;
        }

        lock (stats)
        {
            return streaming ? stats.TimeToFirstTokenMs ?? stats.TotalMs : stats.TotalMs ?? stats.TimeToFirstTokenMs;
        }
    }

    private sealed class Stats
    {
        public double? TimeToFirstTokenMs { get; set; }

        public double? TotalMs { get; set; }
    }
}
