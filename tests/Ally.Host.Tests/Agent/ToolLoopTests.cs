using System.Runtime.CompilerServices;
using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ally.Host.Tests.Agent;

public sealed class ToolLoopTests : IDisposable
{
    private readonly TempFolder _work = new();
    private readonly TestChatClient _client = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task RunAsync_StreamedToolCallThenText_FeedsTheResultBackAndReturnsTheAnswer()
    {
        // Given a model that reads a file, then answers
        _work.Write("notes.txt", "the secret word is tulip\n");
        var calls = 0;
        _client.GetStreamingResponseAsyncCallback = (messages, _, ct) => ++calls == 1
            ? TestChatClient.Stream([new ChatResponseUpdate(ChatRole.Assistant, "Let me look."), new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallContent("c1", "read_file", new Dictionary<string, object?> { ["path"] = "notes.txt" })], FinishReason = ChatFinishReason.ToolCalls }], ct)
            : TestChatClient.Text("It is ", "tulip.");
        var observer = new RecordingObserver();
        var history = new List<ChatMessage> { new(ChatRole.User, "What is the word?") };

        // When
        var result = await CreateLoop(new ToolPermissions(["read_file"], false, null)).RunAsync(_client, "system", history, Options(), stream: true, observer, TestContext.Current.CancellationToken);

        // Then the second call carried the tool result, and the pieces were shown as they came
        var toolResult = Assert.Single(_client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal("c1", toolResult.CallId);
        Assert.Contains("tulip", toolResult.Result?.ToString(), StringComparison.Ordinal);
        Assert.Equal(ChatRole.System, _client.Calls[0][0].Role);
        Assert.Equal(["Let me look.", "It is ", "tulip."], observer.Texts);
        Assert.Equal("Let me look.It is tulip.", result.Text);
        Assert.Equal(2, result.ModelCalls);
        Assert.Equal(1, result.ToolCalls);
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.Assistant], history.Select(m => m.Role));
    }

    [Fact]
    public async Task RunAsync_NotStreamed_RunsToolsAndSumsUsageAndCost()
    {
        // Given two non-streamed calls that each cost something
        var calls = 0;
        _client.GetResponseAsyncCallback = (_, _, _) =>
        {
            var response = ++calls == 1
                ? TestChatClient.Call("list_directory", new Dictionary<string, object?>())
                : new ChatResponse(new ChatMessage(ChatRole.Assistant, "Empty folder."));
            response.Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 10 };
            response.AdditionalProperties = new() { [CostReader.Key] = 0.002m };
            return Task.FromResult(response);
        };
        var observer = new RecordingObserver();

        // When
        var result = await CreateLoop(new ToolPermissions(["list_directory"], false, null)).RunAsync(_client, null, [new(ChatRole.User, "ls")], Options(), stream: false, observer, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Empty folder.", result.Text);
        Assert.Equal(200, result.Usage!.InputTokenCount);
        Assert.Equal(20, result.Usage.OutputTokenCount);
        Assert.Equal(0.004m, result.CostUsd);
        Assert.Equal(["Empty folder."], observer.Texts);
        Assert.Single(observer.Results);
    }

    [Fact]
    public async Task RunAsync_CostMissingOnOneCall_CostIsUnknown()
    {
        // Given
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "hi")));

        // When
        var result = await CreateLoop(new ToolPermissions([], false, null)).RunAsync(_client, null, [new(ChatRole.User, "hi")], Options(), stream: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Null(result.CostUsd);
        Assert.Equal("cost unknown", CostReader.Format(result.CostUsd));
    }

    [Fact]
    public async Task RunAsync_ParallelCalls_AreAskedAndRunOneByOneInOrder()
    {
        // Given one response with three calls
        _work.Write("a.txt", "A");
        var prompter = new ScriptedPrompter(new PermissionAnswer(PermissionChoice.AllowOnce), new PermissionAnswer(PermissionChoice.Deny), new PermissionAnswer(PermissionChoice.AllowOnce));
        var calls = 0;
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(++calls == 1
            ? new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [
                new FunctionCallContent("1", "write_file", new Dictionary<string, object?> { ["path"] = "b.txt", ["content"] = "B" }),
                new FunctionCallContent("2", "delete_file", new Dictionary<string, object?> { ["path"] = "a.txt" }),
                new FunctionCallContent("3", "run_command", new Dictionary<string, object?> { ["command"] = "echo hi" }),
            ]))
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, "done")));

        // When
        await CreateLoop(new ToolPermissions([], false, prompter)).RunAsync(_client, null, [new(ChatRole.User, "go")], Options(), stream: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then each was asked in order, the denied one did not run, and all three results went back in order
        Assert.Equal(["write_file", "delete_file", "run_command"], prompter.Asked);
        Assert.True(File.Exists(_work.Combine("b.txt")));
        Assert.True(File.Exists(_work.Combine("a.txt")));
        var results = _client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToList();
        Assert.Equal(["1", "2", "3"], results.Select(r => r.CallId));
        Assert.Contains("denied", results[1].Result?.ToString(), StringComparison.Ordinal);
        Assert.Contains("hi", results[2].Result?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DeniedWithReason_TheModelIsToldTheReason()
    {
        // Given
        var prompter = new ScriptedPrompter(new PermissionAnswer(PermissionChoice.Deny, "use the staging folder instead"));
        ScriptTwoCalls(TestChatClient.Call("write_file", new Dictionary<string, object?> { ["path"] = "x.txt", ["content"] = "x" }));

        // When
        await CreateLoop(new ToolPermissions([], false, prompter)).RunAsync(_client, null, [new(ChatRole.User, "write")], Options(), stream: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var result = Assert.Single(_client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Contains("use the staging folder instead", result.Result?.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(_work.Combine("x.txt")));
    }

    [Fact]
    public async Task DecideAsync_AlwaysAllowTool_AsksOnceForThatToolOnly()
    {
        // Given
        var prompter = new ScriptedPrompter(new PermissionAnswer(PermissionChoice.AlwaysAllowTool), new PermissionAnswer(PermissionChoice.AllowOnce));
        var permissions = new ToolPermissions([], false, prompter);
        var ct = TestContext.Current.CancellationToken;

        // When
        var first = await permissions.DecideAsync(new FunctionCallContent("1", "write_file"), ct);
        var second = await permissions.DecideAsync(new FunctionCallContent("2", "write_file"), ct);
        var other = await permissions.DecideAsync(new FunctionCallContent("3", "run_command"), ct);

        // Then
        Assert.True(first.Allowed && second.Allowed && other.Allowed);
        Assert.Equal(["write_file", "run_command"], prompter.Asked);
    }

    [Fact]
    public async Task DecideAsync_AlwaysAllowAll_NeverAsksAgain()
    {
        // Given
        var prompter = new ScriptedPrompter(new PermissionAnswer(PermissionChoice.AlwaysAllowAll));
        var permissions = new ToolPermissions([], false, prompter);
        var ct = TestContext.Current.CancellationToken;

        // When
        await permissions.DecideAsync(new FunctionCallContent("1", "write_file"), ct);
        var later = await permissions.DecideAsync(new FunctionCallContent("2", "delete_file"), ct);

        // Then
        Assert.True(later.Allowed);
        Assert.Single(prompter.Asked);
        Assert.True(permissions.AllowAll);
    }

    [Fact]
    public async Task DecideAsync_AllowAllFlagOrConfigured_DoesNotAsk()
    {
        // Given
        var prompter = new ScriptedPrompter();
        var ct = TestContext.Current.CancellationToken;

        // When
        var flag = await new ToolPermissions([], true, prompter).DecideAsync(new FunctionCallContent("1", "delete_file"), ct);
        var configured = await new ToolPermissions(["run_command"], false, prompter).DecideAsync(new FunctionCallContent("2", "run_command"), ct);

        // Then
        Assert.True(flag.Allowed);
        Assert.True(configured.Allowed);
        Assert.Empty(prompter.Asked);
    }

    [Fact]
    public async Task DecideAsync_NoTerminal_DeniesAndSaysWhy()
    {
        // Given no prompter
        var permissions = new ToolPermissions(AgentTools.ReadOnly, false, prompter: null);

        // When
        var decision = await permissions.DecideAsync(new FunctionCallContent("1", "write_file"), TestContext.Current.CancellationToken);

        // Then
        Assert.False(decision.Allowed);
        Assert.Contains("without a terminal", decision.DenialMessage, StringComparison.Ordinal);
        Assert.Contains("--allow-all-tools", decision.DenialMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_PromptFails_Denies()
    {
        // Given
        var permissions = new ToolPermissions([], false, new ScriptedPrompter { Throw = new IOException("terminal gone") });

        // When
        var decision = await permissions.DecideAsync(new FunctionCallContent("1", "write_file"), TestContext.Current.CancellationToken);

        // Then
        Assert.False(decision.Allowed);
        Assert.Contains("prompt failed", decision.DenialMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ModelKeepsCallingTools_StopsAtMaxIterationsWithANote()
    {
        // Given a model that never stops calling a tool
        var n = 0;
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Call("list_directory", new Dictionary<string, object?>(), $"c{++n}"));
        var observer = new RecordingObserver();
        var history = new List<ChatMessage> { new(ChatRole.User, "loop") };

        // When
        var result = await CreateLoop(new ToolPermissions(["list_directory"], false, null), maxIterations: 3).RunAsync(_client, null, history, Options(), stream: false, observer, TestContext.Current.CancellationToken);

        // Then three calls were made, the last call's request was answered without running, and the user was told
        Assert.Equal(3, _client.Calls.Count);
        Assert.True(result.IterationLimitReached);
        Assert.Equal(2, result.ToolCalls);
        Assert.Equal(3, observer.Limit);
        var last = Assert.IsType<FunctionResultContent>(Assert.Single(history[^1].Contents));
        Assert.Equal("c3", last.CallId);
        Assert.Contains("max_iterations", last.Result?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ToolFailsOrIsUnknown_TheErrorGoesBackToTheModel()
    {
        // Given a read of a missing file and a call to a tool that does not exist
        var calls = 0;
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(++calls == 1
            ? new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [
                new FunctionCallContent("1", "read_file", new Dictionary<string, object?> { ["path"] = "missing.txt" }),
                new FunctionCallContent("2", "teleport", new Dictionary<string, object?>()),
            ]))
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));

        // When
        await CreateLoop(new ToolPermissions(["read_file"], false, null)).RunAsync(_client, null, [new(ChatRole.User, "x")], Options(), stream: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var results = _client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.Result?.ToString()).ToList();
        Assert.StartsWith("Error: 'missing.txt' does not exist", results[0], StringComparison.Ordinal);
        Assert.Contains("no tool named 'teleport'", results[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileAsking_ClosesTheOpenCallSoTheHistoryStaysValid()
    {
        // Given a prompt that is cancelled (Ctrl+C while the question is shown)
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var prompter = new CancellingPrompter(cancel);
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(TestChatClient.Call("write_file", new Dictionary<string, object?> { ["path"] = "x", ["content"] = "y" }));
        var history = new List<ChatMessage> { new(ChatRole.User, "x") };

        // When
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CreateLoop(new ToolPermissions([], false, prompter)).RunAsync(_client, null, history, Options(), stream: false, cancellationToken: cancel.Token));

        // Then every call has a result
        var callIds = history.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Select(c => c.CallId);
        var resultIds = history.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.CallId);
        Assert.Equal(callIds, resultIds);
    }

    private void ScriptTwoCalls(ChatResponse first)
    {
        var calls = 0;
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(++calls == 1 ? first : new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
    }

    private ChatOptions Options() => new() { Tools = [.. AgentTools.Create(new Workspace(_work.Path), new ShellRunner(_work.Path), new HttpClient())] };

    private static ToolLoop CreateLoop(ToolPermissions permissions, int maxIterations = 20) => new(permissions, maxIterations, NullLogger.Instance);

    private sealed class RecordingObserver : ITurnObserver
    {
        public List<string> Texts { get; } = [];

        public List<(string Name, bool Allowed, string Result)> Results { get; } = [];

        public int? Limit { get; private set; }

        public void OnText(string text) => Texts.Add(text);

        public void OnResponseCompleted(ChatResponse response)
        {
        }

        public void OnToolResult(FunctionCallContent call, ToolDecision decision, string result) => Results.Add((call.Name, decision.Allowed, result));

        public void OnIterationLimit(int maxIterations) => Limit = maxIterations;
    }

    private sealed class CancellingPrompter(CancellationTokenSource source) : IToolPrompter
    {
        public async Task<PermissionAnswer> AskAsync(FunctionCallContent call, CancellationToken cancellationToken = default)
        {
            await source.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
            return new PermissionAnswer(PermissionChoice.AllowOnce);
        }
    }
}
