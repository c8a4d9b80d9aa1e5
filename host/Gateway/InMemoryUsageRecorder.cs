namespace Ally.Host.Gateway;

/// <summary>
/// Keeps the gateway's calls in memory (the latest <see cref="Capacity"/> calls) until the SQLite usage store is
/// wired in; totals cover every call since start-up, not only the kept ones.
/// </summary>
/// <remarks>Thread-safe; one short lock per call.</remarks>
internal sealed class InMemoryUsageRecorder : IGatewayUsageSink, IUsageReportSource
{
    public const int Capacity = 10_000;

    private readonly GatewayCallRecord?[] _ring = new GatewayCallRecord?[Capacity];
    private readonly Dictionary<(string Provider, string Model), Totals> _totals = [];
    private readonly Lock _lock = new();
    private readonly DateTimeOffset _started;
    private long _count;

    public InMemoryUsageRecorder(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _started = timeProvider.GetUtcNow();
    }

    public void Record(GatewayCallRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_lock)
        {
            _ring[_count % Capacity] = record;
            _count++;
            var key = (record.Provider, record.Model);
            if (!_totals.TryGetValue(key, out var totals))
            {
                totals = new Totals();
                _totals[key] = totals;
            }

            totals.Add(record);
        }
    }

    public UsageReport GetReport(DateTimeOffset? since, int recent)
    {
        lock (_lock)
        {
            var kept = (int)Math.Min(_count, Capacity);
            var records = new List<GatewayCallRecord>(kept);
            for (var i = _count - kept; i < _count; i++)
            {
                records.Add(_ring[i % Capacity]!);
            }

            IReadOnlyList<UsageReportRow> rows;
            if (since is null)
            {
                rows = [.. _totals.OrderBy(t => t.Key.Provider, StringComparer.Ordinal).ThenBy(t => t.Key.Model, StringComparer.Ordinal).Select(t => t.Value.ToRow(t.Key.Provider, t.Key.Model))];
            }
            else
            {
                rows = [.. records.Where(r => r.Timestamp >= since)
                    .GroupBy(r => (r.Provider, r.Model))
                    .OrderBy(g => g.Key.Provider, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal)
                    .Select(g =>
                    {
                        var totals = new Totals();
                        foreach (var record in g)
                        {
                            totals.Add(record);
                        }

                        return totals.ToRow(g.Key.Provider, g.Key.Model);
                    })];
            }

            var latest = records.Where(r => since is null || r.Timestamp >= since).TakeLast(Math.Max(0, recent)).Reverse().ToList();
            return new UsageReport("memory", since ?? _started, rows, latest);
        }
    }

    private sealed class Totals
    {
        private long _requests;
        private long _errors;
        private long _cancelled;
        private long _input;
        private long _output;
        private long _cached;
        private long _reasoning;
        private double _latency;
        private decimal _cost;

        public void Add(GatewayCallRecord record)
        {
            _requests++;
            if (record.Outcome == "cancelled")
            {
                _cancelled++;
            }
            else if (record.Outcome != "ok")
            {
                _errors++;
            }

            _input += record.InputTokens ?? 0;
            _output += record.OutputTokens ?? 0;
            _cached += record.CachedInputTokens ?? 0;
            _reasoning += record.ReasoningTokens ?? 0;
            _latency += record.LatencyMs;
            _cost += record.CostUsd ?? 0;
        }

        public UsageReportRow ToRow(string provider, string model) =>
            new(provider, model, _requests, _errors, _cancelled, _input, _output, _cached, _reasoning, _requests == 0 ? 0 : Math.Round(_latency / _requests, 2), _cost);
    }
}
