namespace Ally.Host.Routing;

/// <summary>A cancellation token that fires after a timeout measured by a <see cref="TimeProvider"/>, and remembers that it did.</summary>
/// <remarks>
/// Linked to a parent token, so a scope for one attempt inside the scope of the whole call is cancelled by either.
/// <see cref="Reset"/> restarts the clock, which is how the idle timeout between streamed pieces works.
/// </remarks>
internal sealed class TimeoutScope : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly TimeProvider _timeProvider;
    private ITimer? _timer;
    private volatile string? _fired;
    private string _name;
    private TimeSpan? _timeout;

    public TimeoutScope(CancellationToken parent, TimeSpan? timeout, string name, TimeProvider timeProvider)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(parent);
        _timeProvider = timeProvider;
        _name = name;
        Reset(timeout, name);
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>Gets the name of the timeout that fired (for example <c>router.first_token_timeout_seconds</c>), or <see langword="null"/>.</summary>
    public string? Fired => _fired;

    /// <summary>Gets the timeout now running.</summary>
    public TimeSpan? Timeout => _timeout;

    /// <summary>Restarts the clock with a new timeout and name; <see langword="null"/> or infinite stops it.</summary>
    public void Reset(TimeSpan? timeout, string name)
    {
        if (_fired is not null)
        {
            return;
        }

        _name = name;
        _timeout = timeout;
        var due = timeout is { } t && t > TimeSpan.Zero && t != System.Threading.Timeout.InfiniteTimeSpan ? t : System.Threading.Timeout.InfiniteTimeSpan;
        if (_timer is null)
        {
            if (due == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return;
            }

            _timer = _timeProvider.CreateTimer(static state => ((TimeoutScope)state!).Fire(), this, due, System.Threading.Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(due, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the clock, keeping the timeout and its name for messages; <see cref="Reset"/> starts it again.</summary>
    public void Pause()
    {
        if (_fired is null)
        {
            _timer?.Change(System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _cts.Dispose();
    }

    private void Fire()
    {
        _fired = _name;
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The scope ended while its timer was firing; nothing is waiting any more.
        }
    }
}
