using Ally.Host.Terminal;

namespace Ally.Host.Tests.Fakes;

/// <summary>Ctrl+C on demand: <see cref="Fire"/> cancels whatever is armed.</summary>
internal sealed class TestInterruptSignal : IInterruptSignal
{
    private CancellationTokenSource? _armed;

    public IDisposable Arm(CancellationTokenSource source)
    {
        _armed = source;
        return new Disarm(this, source);
    }

    public void Fire() => _armed?.Cancel();

    private sealed class Disarm(TestInterruptSignal owner, CancellationTokenSource source) : IDisposable
    {
        public void Dispose()
        {
            if (ReferenceEquals(owner._armed, source))
            {
                owner._armed = null;
            }
        }
    }
}
