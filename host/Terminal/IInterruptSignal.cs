namespace Ally.Host.Terminal;

/// <summary>Ctrl+C: while armed, it cancels the given source (the answer in flight) instead of ending the program.</summary>
internal interface IInterruptSignal
{
    /// <summary>Cancels <paramref name="source"/> on Ctrl+C until the returned scope is disposed.</summary>
    IDisposable Arm(CancellationTokenSource source);
}
