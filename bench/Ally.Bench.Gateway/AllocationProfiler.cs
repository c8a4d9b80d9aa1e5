using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Ally.Bench.Gateway;

/// <summary>
/// Samples allocations by type through the runtime's AllocationTick events (one per ~100 KB allocated), to show
/// where a run's bytes go (<c>--alloc-profile</c>).
/// </summary>
internal sealed class AllocationProfiler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _on;

    public void Start() => _on = true;

    public IReadOnlyList<(string Type, long Bytes)> Stop(int top)
    {
        _on = false;
        var result = _bytes.OrderByDescending(p => p.Value).Take(top).Select(p => (p.Key, p.Value)).ToList();
        _bytes.Clear();
        return result;
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            // GC keyword at verbose level turns on AllocationTick.
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_on || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var index = eventData.PayloadNames!.IndexOf("TypeName");
        var amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (index < 0 || amountIndex < 0)
        {
            return;
        }

        var type = eventData.Payload[index] as string ?? "?";
        var amount = Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(type, amount, (_, old) => old + amount);
    }
}
