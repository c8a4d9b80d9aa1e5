namespace Ally.Host.Tests.Providers.Ollama;

/// <summary>A clock whose timers fire only when the test says the time has come.</summary>
internal sealed class FiringTimeProvider : TimeProvider
{
    private readonly List<FiringTimer> _timers = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FiringTimer(callback, state, dueTime);
        lock (_timers)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    /// <summary>Fires every live timer that has a due time, as if all of them had elapsed.</summary>
    public void FireAll()
    {
        FiringTimer[] timers;
        lock (_timers)
        {
            timers = [.. _timers];
        }

        foreach (var timer in timers)
        {
            timer.Fire();
        }
    }
}
