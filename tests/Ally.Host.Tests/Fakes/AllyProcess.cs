using System.Diagnostics;

namespace Ally.Host.Tests.Fakes;

/// <summary>Runs the built <c>ally</c> executable (host/bin/…/Ally.Host.dll) as a process, as a user would.</summary>
public static class AllyProcess
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Gets the host's build output for the configuration these tests were built in.</summary>
    public static string HostDll { get; } = FindHostDll();

    public static async Task<AllyResult> RunAsync(
        string workingDirectory,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? standardInput = null,
        CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // A clean slate: no provider keys or Ally settings leak in from the machine running the tests.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.EndsWith("_API_KEY", StringComparison.Ordinal) || key.StartsWith("ALLY_", StringComparison.Ordinal) ||
                key is "OLLAMA_HOST" or "HF_TOKEN" or "GITHUB_TOKEN" or "OPENAI_BASE_URL" or "OPENAI_API_VERSION" ||
                key.StartsWith("AZURE_OPENAI_", StringComparison.Ordinal))
            {
                start.Environment.Remove(key);
            }
        }

        start.Environment["ALLY_HOME"] = Path.Combine(workingDirectory, ".ally-home");
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new AllyResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ally.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Ally.sln not found above the test output folder.");
    }

    private static string FindHostDll()
    {
#if DEBUG
        const string Configuration = "Debug";
#else
        const string Configuration = "Release";
#endif
        var built = Path.Combine(RepositoryRoot, "host", "bin", Configuration, "net10.0", "Ally.Host.dll");
        return File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "Ally.Host.dll");
    }
}

/// <summary>What a run of <c>ally</c> printed and returned.</summary>
public sealed record AllyResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}
