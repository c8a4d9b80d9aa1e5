using System.Text.Json;
using Ally.Host.Agent;
using Ally.Host.Sessions;
using Ally.Host.Terminal;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Ally.Host.Tests.Cli;

public sealed class AgentCommandsTests : IDisposable
{
    private const string Config = """
        {
          "provider": "fake",
          "providers": { "fake": { "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "default_model": "fake-model" } }
        }
        """;

    private readonly CliRunner _cli = new(Config);
    private readonly TestChatClient _client = new();

    public AgentCommandsTests()
    {
        // The provider is this in-process fake, so its start-up check answers too (nothing listens at its base_url).
        _cli.Overrides = services => services
            .AddSingleton<IChatClientProvider>(new TestChatClientProvider(_client))
            .AddSingleton<IProviderProbe>(new TestProviderProbe());
    }

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Prompt_WithTools_RunsTheLoopAndPrintsTheResultObject()
    {
        // Given a model that reads a file (a read-only tool: allowed by default) and then answers
        File.WriteAllText(Path.Combine(_cli.Work, "notes.txt"), "meeting at noon");
        var calls = 0;
        _client.GetStreamingResponseAsyncCallback = (_, _, ct) => ++calls == 1
            ? TestChatClient.Stream([new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallContent("c1", "read_file", new Dictionary<string, object?> { ["path"] = "notes.txt" })] }], ct)
            : TestChatClient.Text("At noon.");

        // When
        var (code, stdout, stderr) = await _cli.RunAsync(["-p", "when is the meeting?", "-d", _cli.Work, "--json"]);

        // Then
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(["text", "provider", "model", "finish_reason", "tool_calls", "usage", "cost_usd", "attempts"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("At noon.", root.GetProperty("text").GetString());
        Assert.Equal("fake", root.GetProperty("provider").GetString());
        Assert.Equal("stop", root.GetProperty("finish_reason").GetString());
        Assert.Equal("read_file", root.GetProperty("tool_calls")[0].GetProperty("name").GetString());
        Assert.Equal(10, root.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Contains("meeting at noon", _client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single().Result?.ToString(), StringComparison.Ordinal);
        Assert.Contains("tool: read_file(path: \"notes.txt\")", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_ToolThatWouldAsk_WithoutATerminal_IsDeniedAndTheModelTold()
    {
        // Given
        var calls = 0;
        _client.GetStreamingResponseAsyncCallback = (_, _, ct) => ++calls == 1
            ? TestChatClient.Stream([new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new FunctionCallContent("c1", "write_file", new Dictionary<string, object?> { ["path"] = "x.txt", ["content"] = "x" })] }], ct)
            : TestChatClient.Text("I could not write it.");

        // When
        var (code, stdout, stderr) = await _cli.RunAsync(["-p", "write x", "-d", _cli.Work], stdin: "piped text");

        // Then
        Assert.Equal(0, code);
        Assert.Equal("I could not write it.\n", stdout);
        Assert.Contains("write_file(path: \"x.txt\", content: \"x\") not run", stderr, StringComparison.Ordinal);
        Assert.Contains("without a terminal", _client.Calls[1].SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single().Result?.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("piped text", _client.Calls[0].Last(m => m.Role == ChatRole.User).Text, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cli.Work, "x.txt")));
    }

    [Fact]
    public async Task Prompt_AllowAllTools_RunsAToolThatWouldAsk()
    {
        // Given
        var calls = 0;
        _client.GetResponseAsyncCallback = (_, _, _) => Task.FromResult(++calls == 1
            ? TestChatClient.Call("write_file", new Dictionary<string, object?> { ["path"] = "x.txt", ["content"] = "written" })
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, "Done.")));

        // When
        var (code, stdout, _) = await _cli.RunAsync(["-p", "write x", "-d", _cli.Work, "--allow-all-tools", "--no-stream"]);

        // Then
        Assert.Equal(0, code);
        Assert.Equal("Done.\n", stdout);
        Assert.Equal("written", File.ReadAllText(Path.Combine(_cli.Work, "x.txt")));
    }

    [Fact]
    public async Task Prompt_NoTools_OffersNoTools()
    {
        // Given
        _client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("plain");

        // When
        var (code, stdout, _) = await _cli.RunAsync(["-p", "hi", "--no-tools"]);

        // Then
        Assert.Equal(0, code);
        Assert.Equal("plain\n", stdout);
        Assert.Null(_client.Options[0]?.Tools);
    }

    [Fact]
    public async Task Chat_WithoutATerminal_FailsWithExitCode2AndSaysWhy()
    {
        // When
        var (code, _, stderr) = await _cli.RunAsync([]);

        // Then
        Assert.Equal(2, code);
        Assert.Contains("the interactive chat needs a terminal", stderr, StringComparison.Ordinal);
        Assert.Contains("ally -p", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_NoProviderReadyAndNoTerminal_FailsWithExitCode2()
    {
        // Given a provider whose key is missing
        using var cli = new CliRunner(Agent.FirstRunWizardTests.UnsetKeyConfig);

        // When
        var (code, _, stderr) = await cli.RunAsync([]);

        // Then
        Assert.Equal(2, code);
        Assert.Contains("no provider is ready and there is no terminal to set one up", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_InATerminal_SavesTheSession_ThenResumeAndContinueShowIt_AndSessionsListsIt()
    {
        // Given a terminal session with one turn
        var terminal = new TestTerminal();
        _cli.Overrides += services => services.AddSingleton<IAnsiConsole>(terminal).AddSingleton<IInterruptSignal>(new TestInterruptSignal());
        _client.GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("The first answer.");
        terminal.Keys.Line("my first question").Line("/exit");
        var (code, _, _) = await _cli.RunAsync(["-d", _cli.Work], terminal: true);
        Assert.Equal(0, code);
        var id = new SessionStore(Path.Combine(_cli.Data, SessionStore.FileName), TimeProvider.System).List().Single().Id;

        // When resumed by id, continued, and listed
        var byId = new TestTerminal();
        _cli.Overrides += services => services.AddSingleton<IAnsiConsole>(byId);
        byId.Keys.End();
        var resumed = await _cli.RunAsync(["-i", id], terminal: true);
        var again = new TestTerminal();
        _cli.Overrides += services => services.AddSingleton<IAnsiConsole>(again);
        again.Keys.End();
        var continued = await _cli.RunAsync(["--continue", "-d", _cli.Work], terminal: true);
        var listed = await _cli.RunAsync(["sessions", "--json"]);
        var text = await _cli.RunAsync(["sessions"]);

        // Then
        Assert.Equal(0, resumed.Code);
        Assert.Contains("› my first question", byId.Output, StringComparison.Ordinal);
        Assert.Contains("The first answer.", byId.Output, StringComparison.Ordinal);
        Assert.Equal(0, continued.Code);
        Assert.Contains($"Resuming session {id}", again.Output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(listed.Out);
        var session = json.RootElement.GetProperty("sessions")[0];
        Assert.Equal(id, session.GetProperty("id").GetString());
        Assert.Equal("general", session.GetProperty("role").GetString());
        Assert.Equal("fake", session.GetProperty("provider").GetString());
        Assert.Equal("my first question", session.GetProperty("first_prompt").GetString());
        Assert.Equal(1, session.GetProperty("turns").GetInt32());
        Assert.Contains(id, text.Out, StringComparison.Ordinal);
        Assert.Contains("my first question", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_ResumeUnknownSession_IsAClearError()
    {
        // Given
        _cli.Overrides += services => services.AddSingleton<IAnsiConsole>(new TestTerminal());

        // When
        var (code, _, stderr) = await _cli.RunAsync(["-i", "nope"], terminal: true);

        // Then
        Assert.Equal(2, code);
        Assert.Contains("there is no session 'nope'", stderr, StringComparison.Ordinal);
    }
}
