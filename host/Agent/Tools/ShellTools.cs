using System.ComponentModel;
using System.Diagnostics;

namespace Ally.Host.Agent.Tools;

/// <summary>The shell and git tools. Commands run in the working folder; paths they touch are up to the command.</summary>
internal sealed class ShellTools
{
    internal const int DefaultTimeoutSeconds = 120;
    internal const int MaxTimeoutSeconds = 600;
    private static readonly TimeSpan GitTimeout = TimeSpan.FromSeconds(30);

    private readonly ShellRunner _runner;

    public ShellTools(ShellRunner runner)
    {
        _runner = runner;
    }

    [Description("Runs a shell command in the working folder (bash -c on Unix, cmd /c on Windows) and returns its combined output and exit code. Stdin is closed; long output is cut.")]
    public async Task<string> RunCommand(
        [Description("The command line to run.")] string command,
        [Description("Seconds before the command is stopped (default 120, at most 600).")] int? timeout_seconds = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            throw new ToolException("a command is required.");
        }

        var seconds = Math.Clamp(timeout_seconds ?? DefaultTimeoutSeconds, 1, MaxTimeoutSeconds);
        var result = await _runner.RunAsync(command, TimeSpan.FromSeconds(seconds), cancellationToken);
        return result.Describe();
    }

    [Description("Shows the git status of the working folder: branch and changed files.")]
    public Task<string> GitStatus(CancellationToken cancellationToken = default) =>
        GitAsync(["status", "--short", "--branch"], cancellationToken);

    [Description("Shows the git diff of the working folder: unstaged changes, or staged ones.")]
    public Task<string> GitDiff(
        [Description("Show the staged changes instead of the unstaged ones (default false).")] bool staged = false,
        [Description("Only this file or folder, relative to the working folder.")] string? path = null,
        CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["diff", "--no-color", "--no-ext-diff"];
        if (staged)
        {
            arguments.Add("--staged");
        }

        if (!string.IsNullOrWhiteSpace(path))
        {
            arguments.Add("--");
            arguments.Add(path);
        }

        return GitAsync(arguments, cancellationToken);
    }

    [Description("Shows the recent git history of the working folder, one commit a line.")]
    public Task<string> GitLog(
        [Description("How many commits (default 20, at most 200).")] int? max_count = null,
        CancellationToken cancellationToken = default) =>
        GitAsync(["log", "--no-color", "--date=short", "--pretty=format:%h %ad %an %s", $"--max-count={Math.Clamp(max_count ?? 20, 1, 200)}"], cancellationToken);

    private async Task<string> GitAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var result = await _runner.RunAsync(start, GitTimeout, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new ToolException($"git {arguments[0]} failed: {result.Output.Trim()}");
        }

        return result.Output.Length == 0 ? "(no output)" : result.Output;
    }
}
