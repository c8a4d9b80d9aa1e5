using System.Runtime.CompilerServices;
using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Configuration;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Agent;

public sealed class InteractiveChatTests : IDisposable
{
    private readonly AgentFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task RunAsync_Prompt_StreamsTheAnswerPieceByPieceAndShowsTheQuietLine()
    {
        // Given a model whose second piece is held until the first is on screen
        var terminal = _fixture.Terminal;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, ct) => Gated(terminal, ct);
        terminal.Keys.Line("hello").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then the Markdown markers are gone, and the line shows provider, model, tokens and cost
        var output = terminal.Output;
        Assert.Contains("Hello world, see code:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("**world**", output, StringComparison.Ordinal);
        Assert.Contains("```python\nprint(1)\n```", output, StringComparison.Ordinal);
        Assert.Contains("fake · fake-model · 12 in / 7 out tokens · $0.0021", output, StringComparison.Ordinal);
        Assert.Equal("hello", _fixture.LastUserText());
    }

    [Fact]
    public async Task RunAsync_NoCostReported_SaysCostUnknown()
    {
        // Given
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("Hi.");
        _fixture.Terminal.Keys.Line("hi").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("fake · fake-model · 10 in / 5 out tokens · cost unknown", _fixture.Terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ProviderError_IsShownPlainlyAndTheChatGoesOn()
    {
        // Given a first call refused with a message that echoes a key, then a working call
        const string Key = "sk-live-0123456789abcdef";
        using var fixture = new AgentFixture(configure: s => s with { Redactor = new SecretRedactor([Key]), LogDirectory = "/logs" });
        var calls = 0;
        fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => ++calls == 1
            ? throw new ProviderException(ProviderErrorKind.Authentication, $"Incorrect API key provided: {Key}", "fake", 401)
            : TestChatClient.Text("Working now.");
        fixture.Terminal.Keys.Line("first").Line("second").End();

        // When
        await fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var output = fixture.Terminal.Output;
        Assert.Contains("fake refused the key (HTTP 401). Check its key in .env, or switch with /provider.", output, StringComparison.Ordinal);
        Assert.Contains("Details are in the log under /logs.", output, StringComparison.Ordinal);
        Assert.Contains("Working now.", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, File.ReadAllText(fixture.Sessions.DatabasePath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ServerErrorWithALongMessage_IsOneOrTwoShortSentences()
    {
        // Given
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => throw new ProviderException(ProviderErrorKind.Overloaded, "Overloaded " + new string('x', 500), "fake", 529);
        _fixture.Terminal.Keys.Line("hi").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        // Spectre wraps long lines at the console's width; the sentences are compared with the breaks undone.
        var output = System.Text.RegularExpressions.Regex.Replace(_fixture.Terminal.Output, @"\s+", " ");
        var start = output.IndexOf("fake is having trouble (HTTP 529): Overloaded xxx", StringComparison.Ordinal);
        Assert.True(start >= 0, output);
        var end = output.IndexOf("Try /retry in a moment, or switch with /provider.", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start && end - start < 320, output);
    }

    [Fact]
    public async Task RunAsync_CtrlCDuringAnAnswer_StopsItAndKeepsTheChat()
    {
        // Given a model that streams one piece and then hangs
        var firstPiece = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, ct) => ++calls == 1 ? Hang(firstPiece, ct) : TestChatClient.Text("Second answer.");
        var keys = _fixture.Terminal.Keys;
        var chat = _fixture.CreateChat();
        keys.Line("tell me a long story");
        var run = chat.RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // When Ctrl+C is pressed while the answer streams
        await firstPiece.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        _fixture.Interrupts.Fire();
        await WaitForAsync(() => _fixture.Terminal.Output.Contains("Stopped.", StringComparison.Ordinal));
        keys.Line("and now?").Line("/exit");
        await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Then the partial answer is kept, and the next message was answered
        Assert.Contains("Second answer.", _fixture.Terminal.Output, StringComparison.Ordinal);
        Assert.Contains(chat.Conversation.Messages, m => m.Role == ChatRole.Assistant && m.Text == "Once upon (interrupted)");
        Assert.Equal("and now?", chat.Conversation.Messages.Last(m => m.Role == ChatRole.User).Text);
    }

    [Fact]
    public async Task RunAsync_CtrlDOrExit_Leaves()
    {
        // Given
        var exit = new AgentFixture();
        using (exit)
        {
            exit.Terminal.Keys.Line("/exit").Line("never read");
            var ctrlD = _fixture.Terminal.Keys.CtrlD();

            // When
            await exit.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);
            await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

            // Then
            Assert.Empty(exit.Client.Calls);
            Assert.Empty(_fixture.Client.Calls);
        }
    }

    [Fact]
    public async Task RunAsync_MultiLineInput_BackslashAndFencedBlock()
    {
        // Given
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("ok");
        _fixture.Terminal.Keys
            .Line("first line \\").Line("second line")
            .Line("```").Line("code here").Line("```")
            .End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var prompts = _fixture.Client.Calls.Select(c => c.Last(m => m.Role == ChatRole.User).Text).ToList();
        Assert.Equal(["first line \nsecond line", "```\ncode here\n```"], prompts);
    }

    [Fact]
    public async Task RunAsync_ToolCall_AskedInTheTerminal_DenialReasonReachesTheModel()
    {
        // Given a model that wants to write a file
        var calls = 0;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, ct) => ++calls == 1
            ? TestChatClient.Stream([new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallContent("c1", "write_file", new Dictionary<string, object?> { ["path"] = "out.txt", ["content"] = "data" })] }], ct)
            : TestChatClient.Text("Understood.");
        _fixture.Terminal.Keys.Line("save it").Type("r").Line("not in this folder").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("write_file(path: \"out.txt\", content: \"data\")", _fixture.Terminal.Output, StringComparison.Ordinal);
        Assert.Contains("Allow?", _fixture.Terminal.Output, StringComparison.Ordinal);
        var result = Assert.Single(_fixture.Client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Contains("not in this folder", result.Result?.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_fixture.Work, "out.txt")));
    }

    [Fact]
    public async Task RunAsync_ToolCall_AlwaysAllowThisTool_RunsAndDoesNotAskAgain()
    {
        // Given two turns that each write a file
        var calls = 0;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, ct) => ++calls % 2 == 1
            ? TestChatClient.Stream([new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallContent($"c{calls}", "write_file", new Dictionary<string, object?> { ["path"] = $"f{calls}.txt", ["content"] = "x" })] }], ct)
            : TestChatClient.Text("Written.");
        _fixture.Terminal.Keys.Line("one").Type("t").Line("two").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.True(File.Exists(Path.Combine(_fixture.Work, "f1.txt")));
        Assert.True(File.Exists(Path.Combine(_fixture.Work, "f3.txt")));
        Assert.Equal(1, CountOf(_fixture.Terminal.Output, "Allow?"));
        Assert.Contains("1 tool call", _fixture.Terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UsageCommand_ShowsTodaysSpendFromTheUsageStore()
    {
        // Given a usage store that recorded a priced call today
        using var usage = new Ally.Host.Usage.UsageStore(Path.Combine(_fixture.Data, "usage.db"));
        await usage.RecordAsync(new Ally.Host.Usage.UsageRecord { Time = TimeProvider.System.GetUtcNow(), Provider = "fake", CostUsd = 0.25m, Outcome = "ok" }, TestContext.Current.CancellationToken);
        _fixture.Terminal.Keys.Line("/usage").End();
        var chat = new InteractiveChat(_fixture.Terminal, _fixture.Setup with { Usage = usage }, _fixture.Interrupts, "general");

        // When
        await chat.RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("Today (UTC): $0.25", _fixture.Terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Commands_WorkAndNeverEndTheChat()
    {
        // Given
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("ok");
        _fixture.Client.GetServiceCallback = (type, _) => type == typeof(IModelLister) ? new FakeLister() : null;
        _fixture.Terminal.Keys
            .Line("/help").Line("/id").Line("/providers").Line("/tools").Line("/nope")
            .Line("/provider nope").Line("/provider other").Line("/model big-model").Line("/models").Line("/health")
            .Line("hi").Line("/usage").Line("/role web_searcher").Line("/role nope").Line("/clear")
            .End();
        var chat = _fixture.CreateChat();

        // When
        await chat.RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var output = _fixture.Terminal.Output;
        Assert.Contains("/resume ID", output, StringComparison.Ordinal);
        Assert.Contains($"Session {chat.Conversation.Id}", output, StringComparison.Ordinal);
        Assert.Contains("* fake", output, StringComparison.Ordinal);
        Assert.Contains("write_file", output, StringComparison.Ordinal);
        Assert.Contains("asks first", output, StringComparison.Ordinal);
        Assert.Contains("Unknown command /nope.", output, StringComparison.Ordinal);
        Assert.Contains("'nope' is not installed.", output, StringComparison.Ordinal);
        Assert.Contains("Now using other · other-model", output, StringComparison.Ordinal);
        Assert.Contains("* big-model", output, StringComparison.Ordinal);
        Assert.Contains("✓ other: ok · 2 models listed", output, StringComparison.Ordinal);
        Assert.Contains("This session: 1 turns · 10 in / 5 out tokens · cost unknown", output, StringComparison.Ordinal);
        Assert.Contains("'nope' is not a role.", output, StringComparison.Ordinal);
        Assert.Contains(_fixture.Clients.Targets, t => t.Role == AllyRoles.General && t.Model == "big-model" && t.SessionId == chat.Conversation.Id && t.Provider == "other" && t.Temperature == 0.5);
        Assert.Equal(AllyRoles.WebSearcher, chat.Conversation.Role);
        Assert.Equal(2, _fixture.Client.Calls[0].Count);
    }

    [Fact]
    public async Task RunAsync_Retry_AsksAgainWithoutRepeatingTheMessage()
    {
        // Given a first call that fails and a retry that works
        var calls = 0;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => ++calls == 1
            ? throw new ProviderException(ProviderErrorKind.RateLimit, "slow down", "fake", 429, TimeSpan.FromSeconds(3))
            : TestChatClient.Text("Answer.");
        _fixture.Terminal.Keys.Line("question").Line("/retry").End();
        var chat = _fixture.CreateChat();

        // When
        await chat.RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("it asks to wait 3 s", _fixture.Terminal.Output, StringComparison.Ordinal);
        Assert.Equal(["question"], _fixture.Client.Calls[1].Where(m => m.Role == ChatRole.User).Select(m => m.Text));
        Assert.Equal("Answer.", chat.Conversation.Messages[^1].Text);
    }

    [Fact]
    public async Task RunAsync_EveryTurn_IsSavedAsItCompletes_AndResumeShowsTheHistory()
    {
        // Given a second turn that checks the database while it runs
        var calls = 0;
        var chat = _fixture.CreateChat();
        int savedDuringSecondTurn = -1;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) =>
        {
            if (++calls == 2)
            {
                savedDuringSecondTurn = _fixture.Sessions.Load(chat.Conversation.Id)!.Messages.Count;
            }

            return TestChatClient.Text($"Answer {calls}.");
        };
        _fixture.Terminal.Keys.Line("first question").Line("second question").End();

        // When
        var id = await chat.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var resumed = new AgentFixture();
        var loaded = _fixture.Sessions.Load(id)!;
        resumed.Terminal.Keys.End();
        await new InteractiveChat(resumed.Terminal, resumed.Setup, resumed.Interrupts, loaded.Role).RunAsync(loaded, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, savedDuringSecondTurn);
        Assert.Equal(4, loaded.Messages.Count);
        Assert.Equal(2, loaded.Turns);
        Assert.Equal("first question", loaded.FirstPrompt);
        Assert.Contains("› first question", resumed.Terminal.Output, StringComparison.Ordinal);
        Assert.Contains("Answer 2.", resumed.Terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NewSessionsAndResume_SwitchConversations()
    {
        // Given
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("ok");
        var chat = _fixture.CreateChat();
        _fixture.Terminal.Keys.Line("in the first session").Line("/new").Line("in the second").Line("/sessions");
        var run = chat.RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        await WaitForAsync(() => _fixture.Terminal.Output.Contains("/resume ID continues one.", StringComparison.Ordinal));
        var second = chat.Conversation.Id;
        var first = _fixture.Sessions.List().Single(s => s.Id != second).Id;

        // When
        _fixture.Terminal.Keys.Line($"/resume {first}").Line("back again").End();
        await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(first, chat.Conversation.Id);
        Assert.Equal(["in the first session", "back again"], chat.Conversation.Messages.Where(m => m.Role == ChatRole.User).Select(m => m.Text));
        Assert.Contains("in the first s", _fixture.Terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ShellCommand_OutputCanBeAddedToTheNextMessage()
    {
        // Given
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("I see.");
        _fixture.Terminal.Keys.Line("!echo from-the-shell").Type("y").Line("what did it print?").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("from-the-shell\n[exit code 0]", _fixture.Terminal.Output, StringComparison.Ordinal);
        var sent = _fixture.LastUserText();
        Assert.Contains("I ran `echo from-the-shell`", sent, StringComparison.Ordinal);
        Assert.EndsWith("what did it print?", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Project_BrainstormsThenBuildsFromTheSpecification()
    {
        // Given a brainstormer that writes the spec with its tool
        var calls = 0;
        _fixture.Client.GetStreamingResponseAsyncCallback = (_, _, ct) => ++calls switch
        {
            1 => TestChatClient.Stream([new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallContent("c1", "write_file", new Dictionary<string, object?> { ["path"] = "spec/overview.md", ["content"] = "# Todo app" })] }], ct),
            2 => TestChatClient.Text("Spec written; type /build."),
            _ => TestChatClient.Text("Built."),
        };
        _fixture.Terminal.Keys.Line("/build").Line("/project a todo app").Type("y").Line("/build").End();

        // When
        await _fixture.CreateChat().RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("There is no specification in spec/ yet.", _fixture.Terminal.Output, StringComparison.Ordinal);
        Assert.Equal([AllyRoles.Brainstormer, AllyRoles.CodeGen], _fixture.Clients.Targets.Select(t => t.Role));
        Assert.Contains("I want to build: a todo app", _fixture.Client.Calls[0][1].Text, StringComparison.Ordinal);
        Assert.Contains("Ally's brainstorming agent", _fixture.Client.Calls[0][0].Text, StringComparison.Ordinal);
        Assert.Contains("spec/overview.md", _fixture.LastUserText(), StringComparison.Ordinal);
        Assert.Contains("Ally's code generation agent", _fixture.Client.Calls[^1][0].Text, StringComparison.Ordinal);
        Assert.Equal("# Todo app", File.ReadAllText(Path.Combine(_fixture.Work, "spec", "overview.md")));
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Gated(TestTerminal terminal, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new ChatResponseUpdate(ChatRole.Assistant, "Hello ");
        await WaitForAsync(() => terminal.Output.Contains("Hello", StringComparison.Ordinal));
        cancellationToken.ThrowIfCancellationRequested();
        yield return new ChatResponseUpdate(ChatRole.Assistant, "**world**, see code:\n```python\nprint(1)\n```");
        yield return new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            Contents = [new UsageContent(new UsageDetails { InputTokenCount = 12, OutputTokenCount = 7 })],
            AdditionalProperties = new() { [CostReader.Key] = 0.0021m },
        };
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Hang(TaskCompletionSource started, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new ChatResponseUpdate(ChatRole.Assistant, "Once upon");
        started.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield return new ChatResponseUpdate(ChatRole.Assistant, "never");
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "the condition was not met in 30 s");
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;

    private sealed class FakeLister : IModelLister
    {
        public Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<ProviderModel>>([new ProviderModel("small-model"), new ProviderModel("big-model")]);
    }
}
