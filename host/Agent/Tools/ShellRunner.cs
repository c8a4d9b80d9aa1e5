using System.Diagnostics;
using System.Text;

namespace Ally.Host.Agent.Tools;

/// <summary>
/// Runs shell commands in the working folder with stdin closed, stdout and stderr merged in arrival order, a
/// timeout that stops the whole process tree, and a cap on the output kept.
/// </summary>
internal sealed class ShellRunner
{
    public const int DefaultMaxOutputChars = 30_000;

    private readonly string _directory;
    private readonly int _maxOutputChars;

    public ShellRunner(string directory, int maxOutputChars = DefaultMaxOutputChars)
    {
        _directory = directory;
        _maxOutputChars = maxOutputChars;
    }

    public string Directory => _directory;

    public Task<ShellResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        var start = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { ArgumentList = { "/d", "/c", command } }
            : new ProcessStartInfo(File.Exists("/bin/bash") ? "/bin/bash" : "/bin/sh") { ArgumentList = { "-c", command } };
        return RunAsync(start, timeout, cancellationToken);
    }

    /// <summary>Runs a program directly (no shell), for example git with its arguments.</summary>
    public async Task<ShellResult> RunAsync(ProcessStartInfo start, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.WorkingDirectory = _directory;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;

        // Tools like git and less must not wait for a pager or a terminal that is not there.
        start.Environment["GIT_PAGER"] = "cat";
        start.Environment["PAGER"] = "cat";
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";

        // The head is kept whole up to the cap, then only a rolling tail: the end of a build log matters most.
        var output = new StringBuilder();
        var tail = new LinkedList<string>();
        var tailChars = 0;
        var dropped = 0L;
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                if (tail.Count == 0 && output.Length + line.Length < _maxOutputChars)
                {
                    output.Append(line).Append('\n');
                    return;
                }

                tail.AddLast(line);
                tailChars += line.Length + 1;
                while (tailChars > _maxOutputChars / 2 && tail.Count > 1)
                {
                    tailChars -= tail.First!.Value.Length + 1;
                    dropped += tail.First.Value.Length + 1;
                    tail.RemoveFirst();
                }
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new ToolException($"'{start.FileName}' could not be started: {ex.Message}", ex);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            timedOut = true;
        }

        if (!timedOut)
        {
            // Drains the asynchronous readers so that the last lines are not lost.
            process.WaitForExit();
        }

        string text;
        lock (output)
        {
            if (dropped > 0)
            {
                output.Append(System.Globalization.CultureInfo.InvariantCulture, $"… [{dropped} characters cut] …\n");
            }

            foreach (var line in tail)
            {
                output.Append(line).Append('\n');
            }

            text = output.ToString();
        }

        return new ShellResult(timedOut ? null : process.ExitCode, OutputCap.Apply(text, _maxOutputChars), timedOut);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own meanwhile.
        }
    }
}
