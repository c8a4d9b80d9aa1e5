namespace Ally.Host.Terminal;

/// <summary>
/// Ctrl+C in the interactive chat: cancels the answer being generated and keeps the program running. At the input
/// prompt it does nothing (Ctrl+D or /exit leave), so a stray Ctrl+C never loses a conversation.
/// </summary>
internal sealed class ConsoleInterruptSignal : IInterruptSignal, IDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _current;
    private bool _installed;

    public IDisposable Arm(CancellationTokenSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_gate)
        {
            if (!_installed)
            {
#pragma warning disable RS0030 // this is the terminal layer
                Console.CancelKeyPress += OnCancelKeyPress;
#pragma warning restore RS0030
                _installed = true;
            }

            _current = source;
        }

        return new Scope(this, source);
    }

    /// <summary>Keeps Ctrl+C from ending the program while the chat runs, armed or not.</summary>
    public void Install()
    {
        lock (_gate)
        {
            if (!_installed)
            {
#pragma warning disable RS0030 // this is the terminal layer
                Console.CancelKeyPress += OnCancelKeyPress;
#pragma warning restore RS0030
                _installed = true;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_installed)
            {
#pragma warning disable RS0030 // this is the terminal layer
                Console.CancelKeyPress -= OnCancelKeyPress;
#pragma warning restore RS0030
                _installed = false;
            }
        }
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        CancellationTokenSource? current;
        lock (_gate)
        {
            current = _current;
        }

        try
        {
            current?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The turn ended as the key was pressed.
        }
    }

    private void Disarm(CancellationTokenSource source)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_current, source))
            {
                _current = null;
            }
        }
    }

    private sealed class Scope(ConsoleInterruptSignal owner, CancellationTokenSource source) : IDisposable
    {
        public void Dispose() => owner.Disarm(source);
    }
}
