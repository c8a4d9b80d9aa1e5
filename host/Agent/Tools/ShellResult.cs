namespace Ally.Host.Agent.Tools;

/// <summary>What a shell command did: its exit code (null when it was stopped), its output, and whether it timed out.</summary>
internal sealed record ShellResult(int? ExitCode, string Output, bool TimedOut)
{
    /// <summary>Formats the result for the model or the user.</summary>
    public string Describe()
    {
        var status = TimedOut ? "timed out and was stopped" : $"exit code {ExitCode}";
        return Output.Length == 0 ? $"[{status}; no output]" : $"{Output.TrimEnd('\n')}\n[{status}]";
    }
}
