using System.Diagnostics;
using System.Text;
using Ally.Host.Sessions;
using Ally.Host.Tests.Fakes;
using Ally.Host.Tests.Providers.OpenAI;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Cli;

/// <summary>
/// The real executable in a pseudo-terminal (util-linux <c>script</c>) against a loopback OpenAI-compatible
/// server: what a user sees and types, including the permission prompt, /exit, resuming, and a kill mid-answer.
/// </summary>
public sealed class PseudoTerminalTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Ally_InATerminal_PromptStreamToolPermissionExit_ThenResumeShowsTheHistory()
    {
        if (!File.Exists("/usr/bin/script") || OperatingSystem.IsWindows())
        {
            return;
        }

        // Given a server that asks to write a file when told to, and otherwise answers
        await using var server = await LoopbackServer.StartAsync(Respond, TestContext.Current.CancellationToken);
        var (config, work) = Setup(server);

        // When a user chats, allows the tool and leaves
        await using (var ally = AllyProcess.Start(config, work))
        {
            await ally.WaitForAsync("general ›");
            await ally.TypeAsync("hello there\r");
            await ally.WaitForAsync("out tokens · $");
            await ally.TypeAsync("please write the file\r");
            await ally.WaitForAsync("Allow?");
            await ally.TypeAsync("y");
            await ally.WaitForAsync("1 tool call");
            await ally.TypeAsync("/exit\r");
            Assert.Equal(0, await ally.ExitAsync());
            Assert.Contains("Hello from the loopback.", ally.Output, StringComparison.Ordinal);
            Assert.Contains("Created notes.txt", ally.Output, StringComparison.Ordinal);
        }

        Assert.Equal("written by the model\n", File.ReadAllText(Path.Combine(work, "notes.txt")));
        var id = new SessionStore(Path.Combine(_root.Path, "data", SessionStore.FileName), TimeProvider.System).List().Single().Id;

        // Then resuming shows the history
        await using var resumed = AllyProcess.Start(config, work, "-i", id);
        await resumed.WaitForAsync("general ›");
        await resumed.TypeAsync("\u0004");
        Assert.Equal(0, await resumed.ExitAsync());
        Assert.Contains("› hello there", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("› please write the file", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("write_file(path: \"notes.txt\"", resumed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ally_KilledInTheMiddleOfAnAnswer_KeepsEveryCompletedTurn()
    {
        if (!File.Exists("/usr/bin/script") || OperatingSystem.IsWindows())
        {
            return;
        }

        // Given a completed turn, then an answer that hangs after its first piece
        await using var server = await LoopbackServer.StartAsync(Respond, TestContext.Current.CancellationToken);
        var (config, work) = Setup(server);
        await using var ally = AllyProcess.Start(config, work);
        await ally.WaitForAsync("general ›");
        await ally.TypeAsync("first question\r");
        await ally.WaitForAsync("out tokens · $");
        await ally.TypeAsync("second question, hang please\r");
        await ally.WaitForAsync("Starting to");

        // When the process is killed
        ally.Kill();

        // Then the first turn is in the session, and the answer in flight is not
        var store = new SessionStore(Path.Combine(_root.Path, "data", SessionStore.FileName), TimeProvider.System);
        var session = store.Load(store.List().Single().Id)!;
        Assert.Equal(1, session.Turns);
        Assert.Equal("first question", session.Messages[0].Text);
        Assert.Equal("Hello from the loopback.", session.Messages[1].Text);
    }

    [Fact]
    public async Task Ally_ProviderErrorInTheChat_IsPlainSentencesWithoutAStackTraceUnlessVerbose()
    {
        if (!File.Exists("/usr/bin/script") || OperatingSystem.IsWindows())
        {
            return;
        }

        // Given a provider that fails with a 500 when asked to, and no retries to wait for
        await using var server = await LoopbackServer.StartAsync(Respond, TestContext.Current.CancellationToken);
        var (config, work) = Setup(server, """ "router": { "max_retries": 0 }, """);

        // When the chat meets the error, then goes on
        await using (var ally = AllyProcess.Start(config, work))
        {
            await ally.WaitForAsync("general ›");
            await ally.TypeAsync("fail please\r");
            await ally.WaitForAsync("Details are in the log");
            await ally.TypeAsync("hello after the error\r");
            await ally.WaitForAsync("out tokens · $");
            await ally.TypeAsync("/exit\r");
            Assert.Equal(0, await ally.ExitAsync());

            // Then the user reads sentences, not a log line with the exception and its stack trace
            Assert.Contains("the upstream model crashed", ally.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", ally.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("ProviderException", ally.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("fail: ", ally.Output, StringComparison.Ordinal);
        }

        // And --verbose shows the details on the console as well
        await using var verbose = AllyProcess.Start(config, work, "--verbose");
        await verbose.WaitForAsync("general ›");
        await verbose.TypeAsync("fail please\r");
        await verbose.WaitForAsync("Details are in the log");
        await verbose.TypeAsync("/exit\r");
        Assert.Equal(0, await verbose.ExitAsync());
        Assert.Contains("ProviderException", verbose.Output, StringComparison.Ordinal);
    }

    private (string Config, string Work) Setup(LoopbackServer server, string extraConfig = "")
    {
        var work = _root.Combine("work");
        Directory.CreateDirectory(work);
        _root.Write("config.json", $$"""
            { "provider": "loop", {{extraConfig}} "providers": { "loop": { "type": "openai-compatible", "base_url": "{{server.BaseAddress}}v1", "default_model": "loop-model" } } }
            """);
        _root.Write(".env", $"ALLY_HOME={_root.Combine("data")}\n");
        return (_root.Combine("config.json"), work);
    }

    private static async Task Respond(HttpContext context)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        var lastUser = body[body.LastIndexOf("\"role\":\"user\"", StringComparison.Ordinal)..];
        if (lastUser.Contains("fail please", StringComparison.Ordinal))
        {
            await OpenAIWire.WriteJsonAsync(context, """{"error":{"message":"the upstream model crashed","type":"server_error"}}""", 500);
        }
        else if (lastUser.Contains("hang please", StringComparison.Ordinal))
        {
            await OpenAIWire.WriteSseAsync(context, [$"data: {OpenAIWire.Chunk("""{"role":"assistant","content":"Starting to"}""")}\n\n"]);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        else if (lastUser.Contains("write the file", StringComparison.Ordinal) && !body.Contains("\"role\":\"tool\"", StringComparison.Ordinal))
        {
            await OpenAIWire.WriteSseAsync(context, OpenAIWire.Sse(
                OpenAIWire.Chunk("""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"write_file","arguments":"{\"path\":\"notes.txt\",\"content\":\"written by the model\\n\"}"}}]}"""),
                OpenAIWire.Chunk("{}", "tool_calls")));
        }
        else
        {
            await OpenAIWire.WriteSseAsync(context, OpenAIWire.Sse(
                OpenAIWire.Chunk("""{"role":"assistant","content":"Hello from "}"""),
                OpenAIWire.Chunk("""{"content":"the loopback."}"""),
                OpenAIWire.Chunk("{}", "stop"),
                OpenAIWire.UsageChunk(9, 4, 13)));
        }
    }

    /// <summary>The built ally, run by <c>script</c> so that it has a real terminal.</summary>
    private sealed class AllyProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private AllyProcess(Process process)
        {
            _process = process;
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static AllyProcess Start(string config, string work, params string[] args)
        {
            var ally = Path.Combine(AppContext.BaseDirectory, "Ally.Host.dll");
            var command = string.Join(' ', new[] { "dotnet", ally, "--config", config, "-d", work }.Concat(args).Select(Quote));
            var start = new ProcessStartInfo("/usr/bin/script")
            {
                ArgumentList = { "-qfec", $"stty cols 160 rows 50; exec {command}", "/dev/null" },
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = work,
            };
            start.Environment["TERM"] = "dumb";
            start.Environment["NO_COLOR"] = "1";
            var process = Process.Start(start)!;
            var started = new AllyProcess(process);
            _ = started.PumpAsync(process.StandardOutput);
            _ = started.PumpAsync(process.StandardError);
            return started;
        }

        public async Task TypeAsync(string keys)
        {
            await _process.StandardInput.WriteAsync(keys);
            await _process.StandardInput.FlushAsync();
        }

        public async Task WaitForAsync(string text)
        {
            for (var i = 0; i < 600 && !Output.Contains(text, StringComparison.Ordinal); i++)
            {
                await Task.Delay(100);
            }

            Assert.True(Output.Contains(text, StringComparison.Ordinal), $"'{text}' did not appear; the terminal shows:\n{Output}");
        }

        public async Task<int> ExitAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        public ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                Kill();
            }

            _process.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task PumpAsync(StreamReader reader)
        {
            var buffer = new char[4096];
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
            {
                lock (_output)
                {
                    _output.Append(buffer, 0, read);
                }
            }
        }

        private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
