using System.Collections.Concurrent;

namespace Ally.Host.Usage;

/// <summary>
/// Runs the usage store's writer, every continuation of it included, on one thread of its own.
/// </summary>
/// <remarks>
/// On the thread pool the writer's few wake-ups a second (its batch window, its writes) each woke pool workers that
/// then spun and slept: seven context switches per call at concurrency 1, competing with the calls on a gateway
/// that runs on the socket threads (<c>gateway.inline_io</c>, docs/gateway-benchmark.md). Its own thread wakes once
/// per wake-up and sleeps. Awaits in the writer must not use <c>ConfigureAwait(false)</c>, which would leave this
/// scheduler for the pool.
/// </remarks>
internal sealed class WriterThreadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _tasks = [];
    private readonly Thread _thread;

    public WriterThreadScheduler(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Lets the queued work finish and ends the thread.</summary>
    public void Dispose()
    {
        _tasks.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    protected override void QueueTask(Task task)
    {
        try
        {
            _tasks.Add(task);
        }
        catch (InvalidOperationException)
        {
            // Closed: a continuation that arrives after the writer ended (a cancelled window's timer) runs where it is.
            TryExecuteTask(task);
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _tasks];

    private void Run()
    {
        foreach (var task in _tasks.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }
}
