using Ally.Host.Agent.Tools;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Agent.Tools;

public sealed class ShellToolsTests : IDisposable
{
    private readonly TempFolder _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task RunCommand_RunsInTheWorkingFolder_WithOutputAndExitCode()
    {
        // Given
        var tools = new ShellTools(new ShellRunner(_work.Path));

        // When
        var text = await tools.RunCommand("pwd; echo oops >&2; exit 3", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains(Path.GetFileName(_work.Path), text, StringComparison.Ordinal);
        Assert.Contains("oops", text, StringComparison.Ordinal);
        Assert.EndsWith("[exit code 3]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCommand_Timeout_StopsTheCommand()
    {
        // Given
        var runner = new ShellRunner(_work.Path);

        // When
        var result = await runner.RunAsync("echo started; sleep 30", TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);

        // Then
        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Contains("timed out", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCommand_HugeOutput_IsCutKeepingHeadAndTail()
    {
        // Given a cap of 1000 characters
        var runner = new ShellRunner(_work.Path, maxOutputChars: 1000);

        // When
        var result = await runner.RunAsync("seq 1 20000", TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Then
        Assert.True(result.Output.Length < 1200);
        Assert.StartsWith("1\n2\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("characters cut", result.Output, StringComparison.Ordinal);
        Assert.Contains("20000", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCommand_Cancelled_StopsAndThrows()
    {
        // Given
        var runner = new ShellRunner(_work.Path);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(300);

        // When / Then
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync("sleep 30", TimeSpan.FromSeconds(60), cancel.Token));
    }

    [Fact]
    public async Task GitTools_InARepository_ShowStatusDiffAndLog()
    {
        // Given a repository with one commit and one change
        var runner = new ShellRunner(_work.Path);
        var ct = TestContext.Current.CancellationToken;
        var setup = await runner.RunAsync("git init -q -b main && git -c user.email=t@e -c user.name=T commit -q --allow-empty -m first && echo hello > f.txt && git add f.txt && git -c user.email=t@e -c user.name=T commit -q -m 'add f' && echo world >> f.txt", TimeSpan.FromSeconds(30), ct);
        Assert.Equal(0, setup.ExitCode);
        var tools = new ShellTools(runner);

        // When
        var status = await tools.GitStatus(ct);
        var diff = await tools.GitDiff(cancellationToken: ct);
        var log = await tools.GitLog(cancellationToken: ct);

        // Then
        Assert.Contains("## main", status, StringComparison.Ordinal);
        Assert.Contains(" M f.txt", status, StringComparison.Ordinal);
        Assert.Contains("+world", diff, StringComparison.Ordinal);
        Assert.Contains("add f", log, StringComparison.Ordinal);
        Assert.Contains("first", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GitStatus_NotARepository_IsAnError()
    {
        // Given
        var tools = new ShellTools(new ShellRunner(_work.Path));

        // When
        var error = await Assert.ThrowsAsync<ToolException>(() => tools.GitStatus(TestContext.Current.CancellationToken));

        // Then
        Assert.Contains("git status failed", error.Message, StringComparison.Ordinal);
    }
}
