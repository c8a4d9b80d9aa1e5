namespace Ally.Host.Tests.Providers.Ollama;

/// <summary>A timer of <see cref="FiringTimeProvider"/>: fires once when told, unless disposed or disarmed.</summary>
internal sealed class FiringTimer(TimerCallback callback, object? state, TimeSpan dueTime) : ITimer
{
    private readonly Lock _lock = new();
    private TimeSpan _dueTime = dueTime;
    private bool _disposed;

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        lock (_lock)
        {
            _dueTime = dueTime;
            return !_disposed;
        }
    }

    public void Fire()
    {
        lock (_lock)
        {
            if (_disposed || _dueTime == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            _dueTime = Timeout.InfiniteTimeSpan;
        }

        callback(state);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
