using System.Collections.Concurrent;

namespace Ally.Host.Routing;

/// <summary>Remembers which providers the router skips, why, and until when. Thread-safe.</summary>
internal sealed class CooldownTracker(TimeProvider timeProvider)
{
    public const string RepeatedFailures = "repeated_failures";

    private readonly ConcurrentDictionary<string, CooldownInfo> _entries = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Raised when a provider enters (or extends) a cooldown; the usage store persists it.</summary>
    public event Action<CooldownInfo>? Entered;

    /// <summary>Raised when a provider's cooldown ends early.</summary>
    public event Action<string>? Cleared;

    /// <summary>Takes over a cooldown another process recorded, unless this one already knows a longer one.</summary>
    public void Restore(CooldownInfo cooldown)
    {
        ArgumentNullException.ThrowIfNull(cooldown);
        _entries.AddOrUpdate(cooldown.Provider, cooldown, (_, existing) => existing.Until >= cooldown.Until ? existing : cooldown);
    }

    /// <summary>Puts a provider in cooldown for <paramref name="duration"/>, unless it already cools down for longer.</summary>
    public void Enter(string provider, string reason, TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return;
        }

        var until = timeProvider.GetUtcNow() + duration;
        var stored = _entries.AddOrUpdate(
            provider,
            static (name, state) => new CooldownInfo(name, state.reason, state.until),
            static (name, existing, state) => existing.Until >= state.until ? existing : new CooldownInfo(name, state.reason, state.until),
            (reason, until));
        if (stored.Until == until)
        {
            Entered?.Invoke(stored);
        }
    }

    /// <summary>Ends a provider's cooldown early (its circuit closed again after a successful trial call).</summary>
    public void Clear(string provider, string? reason = null)
    {
        if (_entries.TryGetValue(provider, out var entry) && (reason is null || entry.Reason == reason))
        {
            if (_entries.TryRemove(KeyValuePair.Create(provider, entry)))
            {
                Cleared?.Invoke(provider);
            }
        }
    }

    public bool TryGet(string provider, out CooldownInfo info)
    {
        if (_entries.TryGetValue(provider, out var entry))
        {
            if (entry.Until > timeProvider.GetUtcNow())
            {
                info = entry;
                return true;
            }

            _entries.TryRemove(KeyValuePair.Create(provider, entry));
        }

        info = null!;
        return false;
    }

    /// <summary>Gets the providers cooling down now, soonest back first.</summary>
    public IReadOnlyList<CooldownInfo> Snapshot()
    {
        var now = timeProvider.GetUtcNow();
        return _entries.Values.Where(e => e.Until > now).OrderBy(e => e.Until).ToList();
    }
}
