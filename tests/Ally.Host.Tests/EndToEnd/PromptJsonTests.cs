using System.Text.Json;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.EndToEnd;

/// <summary><c>ally -p ... --json</c> for each protocol, streamed and not, against loopback fakes of each wire format.</summary>
public sealed class PromptJsonTests : IDisposable
{
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("openai", false)]
    [InlineData("openai", true)]
    [InlineData("anthropic", false)]
    [InlineData("anthropic", true)]
    [InlineData("gemini", false)]
    [InlineData("gemini", true)]
    [InlineData("ollama", false)]
    [InlineData("ollama", true)]
    public async Task PromptJson_EachProtocol_ReportsTextFinishToolCallsAndUsage(string protocol, bool stream)
    {
        // Given a config that defines one provider per protocol on a loopback fake
        await using var server = await FakeProviderServer.StartAsync(TestContext.Current.CancellationToken);
        _folder.WriteConfig($$"""{ "provider": "fake-{{protocol}}", "providers": {{FakeProviderServer.ProvidersConfig(server)}} }""");
        _folder.WriteEnv($"FAKE_KEY={FakeProviderServer.Key}\n");
        string[] args = stream ? ["-p", "weather in Paris?", "--json", "--no-tools"] : ["-p", "weather in Paris?", "--json", "--no-tools", "--no-stream"];

        // When ally answers one prompt as JSON
        var result = await AllyProcess.RunAsync(_folder.Root, args, cancellationToken: TestContext.Current.CancellationToken);

        // Then the result object carries the text, finish reason, tool call and usage the wire said
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal($"Hello from {protocol}", root.GetProperty("text").GetString());
        Assert.Equal($"fake-{protocol}", root.GetProperty("provider").GetString());
        Assert.Equal("tool_calls", root.GetProperty("finish_reason").GetString());
        var call = Assert.Single(root.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        Assert.Equal("Paris", call.GetProperty("arguments").GetProperty("city").GetString());
        Assert.False(string.IsNullOrEmpty(call.GetProperty("id").GetString()));
        var usage = root.GetProperty("usage");
        Assert.Equal(10, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(15, usage.GetProperty("total_tokens").GetInt32());
        Assert.EndsWith("-x", root.GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeProviderServer.Key, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_PipedStdin_IsAddedToThePrompt()
    {
        await using var server = await FakeProviderServer.StartAsync(TestContext.Current.CancellationToken);
        _folder.WriteConfig($$"""{ "provider": "fake-openai", "providers": {{FakeProviderServer.ProvidersConfig(server)}} }""");
        _folder.WriteEnv($"FAKE_KEY={FakeProviderServer.Key}\n");

        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "review this", "--no-tools"], standardInput: "diff --git a/x b/x\n", cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("Hello from openai", result.StandardOutput, StringComparison.Ordinal);
        var request = server.Requests.Last(r => r.PathAndQuery.EndsWith("/chat/completions", StringComparison.Ordinal));
        Assert.Contains("review this", request.Body, StringComparison.Ordinal);
        Assert.Contains("diff --git a/x b/x", request.Body, StringComparison.Ordinal);
        Assert.Equal($"Bearer {FakeProviderServer.Key}", request.Headers["Authorization"]);
    }
}
