using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace Ally.Bench.Startup;

/// <summary>
/// Wall time of <c>ally providers --json</c> as a user runs it (a new process each time), with 0 and 20 plugins
/// dropped into the plugins folder in the folder layout. Build first: <c>dotnet build -c Release Ally.sln</c>.
/// </summary>
[InProcess]
[WarmupCount(2)]
[IterationCount(15)]
[InvocationCount(1)]
[MemoryDiagnoser(false)]
public class StartupBenchmarks
{
    private string _root = string.Empty;

    [Params(0, 20)]
    public int Plugins { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "ally-bench", Guid.NewGuid().ToString("N"));
        var plugins = Path.Combine(_root, "plugins");
        Directory.CreateDirectory(plugins);
        var pluginDll = Path.Combine(Paths.RepositoryRoot, "bench", "Ally.Bench.Plugin", "bin", "Release", "net10.0", "Ally.Bench.Plugin.dll");
        for (var i = 1; i <= Plugins; i++)
        {
            var name = $"BenchPlugin{i:00}";
            Directory.CreateDirectory(Path.Combine(plugins, name));
            File.Copy(pluginDll, Path.Combine(plugins, name, name + ".dll"));
        }

        File.WriteAllText(Path.Combine(_root, "config.json"), "{}");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark]
    public int ProvidersJson()
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Paths.HostDll);
        start.ArgumentList.Add("providers");
        start.ArgumentList.Add("--json");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || (Plugins > 0 && !output.Contains("benchplugin20", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"ally providers failed (exit {process.ExitCode}).");
        }

        return output.Length;
    }
}
