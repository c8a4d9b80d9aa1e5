using System.Diagnostics;
using System.Globalization;

namespace Ally.Bench.Gateway;

/// <summary>
/// This benchmark started again as another process in one role (<c>--role upstream</c> or <c>--role gateway</c>),
/// optionally pinned to some cores with <c>taskset</c>, driven by one-line commands on its standard input; every line
/// it answers with starts with <c>@</c> (anything else it prints is passed through as a note).
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>Gets the address the child reported when it was ready (the upstream's base, or the gateway's chat URL).</summary>
    public Uri Address { get; }

    public const string GatewayEnvironmentPrefix = "ALLY_BENCH_GATEWAY_";

    public static async Task<ChildProcess> StartAsync(string? cpus, params string[] arguments)
    {
        var start = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (!arguments.Contains("upstream"))
        {
            // ALLY_BENCH_GATEWAY_X=V sets X=V for the gateway's process only (a runtime knob such as DOTNET_GCgen0size),
            // so that the load generator and the upstream run as they always do.
            foreach (var entry in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>())
            {
                if (entry.Key is string key && key.StartsWith(GatewayEnvironmentPrefix, StringComparison.Ordinal))
                {
                    start.Environment[key[GatewayEnvironmentPrefix.Length..]] = entry.Value as string;
                }
            }
        }

        var command = SelfCommand(cpus);
        start.FileName = command[0];
        foreach (var argument in command.Skip(1).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var ready = await ReadReplyAsync(process);
        if (!ready.StartsWith("@ready ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{string.Join(' ', arguments)}: expected '@ready <url>', got '{ready}'");
        }

        return new ChildProcess(process, new Uri(ready["@ready ".Length..]));
    }

    /// <summary>The command that starts this benchmark again (its apphost, or <c>dotnet</c> and its dll), under <c>taskset -c</c> when <paramref name="cpus"/> is given.</summary>
    public static string[] SelfCommand(string? cpus)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        string[] command = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, typeof(ChildProcess).Assembly.Location] : [self];
        return cpus is null ? command : ["taskset", "-c", cpus, .. command];
    }

    /// <summary>Sends one command and returns the child's answer (the line starting with <c>@</c>), without the <c>@</c>.</summary>
    public async Task<string> SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        var reply = await ReadReplyAsync(_process);
        return reply[1..];
    }

    /// <summary>Asks for the child's <c>stats</c> line, <c>key=value</c> pairs.</summary>
    public async Task<Dictionary<string, double>> StatsAsync() =>
        (await SendAsync("stats")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(pair => pair.Split('='))
            .ToDictionary(pair => pair[0], pair => double.Parse(pair[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>Gets how many calls the child's usage store holds (0 for a child without one).</summary>
    public async Task<long> RecordedCallsAsync() => long.Parse((await SendAsync("calls"))["calls ".Length..], CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("quit");
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static async Task<string> ReadReplyAsync(Process process)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith('@'))
            {
                return line;
            }

#pragma warning disable RS0030 // a benchmark's console output is its report
            Console.WriteLine("  (child) " + line);
#pragma warning restore RS0030
        }

        throw new InvalidOperationException($"the child process {process.Id} ended without answering");
    }
}
