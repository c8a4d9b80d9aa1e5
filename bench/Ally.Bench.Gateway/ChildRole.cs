using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace Ally.Bench.Gateway;

/// <summary>
/// What this benchmark does when started as a child (<c>--role upstream</c>, <c>--role gateway --upstream URL</c> or
/// <c>--role yarp --upstream URL</c>):
/// serve, print <c>@ready URL</c>, then answer commands on standard input until <c>quit</c> or its end:
/// <c>delay MS [JITTER_MS]</c> (the upstream's think time), <c>stats</c> (this process's allocations, CPU time and memory)
/// and <c>calls</c> (how many calls its usage store holds).
/// </summary>
internal static class ChildRole
{
    public static async Task<int> RunAsync(string role, string[] args)
    {
        if (role == "upstream")
        {
            await using var upstream = await FakeUpstream.StartAsync();
            await ServeAsync(upstream.BaseAddress, () => Task.FromResult(0L));
            return 0;
        }

        if (role == "gateway")
        {
            var index = Array.IndexOf(args, "--upstream");
            if (index < 0 || index == args.Length - 1)
            {
                Reply("@error --role gateway needs --upstream URL");
                return 2;
            }

            await using var gateway = await GatewayUnderTest.StartAsync(
                new Uri(args[index + 1]), viaRouter: !args.Contains("--no-router"), recordUsage: !args.Contains("--no-usage"), fileLog: !args.Contains("--no-log"), inlineIo: args.Contains("--inline-io"));
            await ServeAsync(gateway.ChatUrl, gateway.RecordedCallsAsync);
            return 0;
        }

        if (role == "yarp")
        {
            var at = Array.IndexOf(args, "--upstream");
            if (at < 0 || at == args.Length - 1)
            {
                Reply("@error --role yarp needs --upstream URL");
                return 2;
            }

            await using var relay = await YarpRelay.StartAsync(new Uri(args[at + 1]), args.Contains("--inline-io"));
            await ServeAsync(relay.ChatUrl, () => Task.FromResult(0L));
            return 0;
        }

        Reply($"@error unknown role '{role}' (upstream, gateway or yarp)");
        return 2;
    }

    private static async Task ServeAsync(Uri address, Func<Task<long>> recordedCalls)
    {
        Reply("@ready " + address);
        using var process = Process.GetCurrentProcess();
        // Standard input is read on a thread of its own: a blocking read on the thread pool would take one of the
        // gateway's threads (its only one, pinned to one core) away for the whole run.
        var commands = Channel.CreateUnbounded<string>();
        new Thread(() =>
        {
#pragma warning disable RS0030 // the parent drives a child through its standard input
            while (Console.In.ReadLine() is { } line)
#pragma warning restore RS0030
            {
                commands.Writer.TryWrite(line);
            }

            commands.Writer.TryComplete();
        }) { IsBackground = true, Name = "bench commands" }.Start();
        await foreach (var command in commands.Reader.ReadAllAsync())
        {
            if (command == "quit")
            {
                break;
            }

            if (command.StartsWith("delay ", StringComparison.Ordinal))
            {
                var parts = command["delay ".Length..].Split(' ');
                FakeUpstream.Delay = TimeSpan.FromMilliseconds(double.Parse(parts[0], CultureInfo.InvariantCulture));
                FakeUpstream.Jitter = parts.Length > 1 ? TimeSpan.FromMilliseconds(double.Parse(parts[1], CultureInfo.InvariantCulture)) : TimeSpan.Zero;
                Reply("@ok");
            }
            else if (command == "stats")
            {
                process.Refresh();
                var info = GC.GetGCMemoryInfo();
                Reply(string.Create(CultureInfo.InvariantCulture,
                    $"@stats allocated={GC.GetTotalAllocatedBytes(precise: true)} cpu_ms={process.TotalProcessorTime.TotalMilliseconds:0.0} working_set={process.WorkingSet64} peak_working_set={process.PeakWorkingSet64} heap={info.HeapSizeBytes} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} gc_pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:0.000} cores={Environment.ProcessorCount} jit_methods={System.Runtime.JitInfo.GetCompiledMethodCount()} switches={ContextSwitchCounter.OfThisProcess()} tp_items={ThreadPool.CompletedWorkItemCount}"));
            }
            else if (command == "calls")
            {
                // Apart from stats, which is read around every row: counting the usage store's rows is a query over
                // all of them, whose CPU time would count as the gateway's.
                var calls = await recordedCalls();
                Reply(string.Create(CultureInfo.InvariantCulture, $"@calls {calls}"));
            }
            else
            {
                Reply($"@error unknown command '{command}'");
            }
        }
    }

    private static void Reply(string line)
    {
#pragma warning disable RS0030 // the parent reads a child's answers from its standard output
        Console.WriteLine(line);
        Console.Out.Flush();
#pragma warning restore RS0030
    }
}
