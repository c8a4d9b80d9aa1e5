using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.EndToEnd;

/// <summary>The sample plugins, as the set-up command deploys them into plugins/, answering through the built host.</summary>
public sealed class SamplePluginTests : IDisposable
{
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task MiniMax_FromRepositoryPluginsFolder_SendsKeyAndGroupIdAndAnswers()
    {
        // Given the MiniMax sample plugin pointed at a loopback OpenAI-compatible server
        await using var server = await FakeProviderServer.StartAsync(TestContext.Current.CancellationToken);
        var plugins = Path.Combine(AllyProcess.RepositoryRoot, "plugins");
        _folder.WriteConfig($$"""
            { "provider": "minimax", "plugins_dir": {{JsonSerializer.Serialize(plugins)}},
              "providers": { "minimax": { "base_url": "{{server.BaseAddress}}v1" } } }
            """);
        _folder.WriteEnv("MINIMAX_API_KEY=minimax-secret-key-000111\nMINIMAX_GROUP_ID=1987654321\n");

        // When ally answers a prompt with it
        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi", "--json", "--no-tools"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the plugin spoke OpenAI Chat Completions with its key and group id
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal("Hello from openai", json.RootElement.GetProperty("text").GetString());
        Assert.Equal("minimax", json.RootElement.GetProperty("provider").GetString());
        var request = server.LastRequest;
        Assert.Equal("/v1/chat/completions?GroupId=1987654321", request.PathAndQuery);
        Assert.Equal("Bearer minimax-secret-key-000111", request.Headers["Authorization"]);
        Assert.Contains("\"model\":\"MiniMax-M2\"", request.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("minimax-secret-key-000111", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SamplePlugins_AreFoundAfterSetUpWithNoExtraStep()
    {
        // Given the repository's own config.json and plugins folder
        var result = await AllyProcess.RunAsync(AllyProcess.RepositoryRoot, ["providers", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        // Then both sample plugins are listed from their deployed folders, with no warning
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var providers = json.RootElement.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("plugins/Ally.Plugins.MiniMax/Ally.Plugins.MiniMax.dll", providers["minimax"].GetProperty("path").GetString());
        Assert.Equal(["MINIMAX_API_KEY", "MINIMAX_GROUP_ID"], providers["minimax"].GetProperty("required_env_vars").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("plugins/Ally.Plugins.Cohere/Ally.Plugins.Cohere.dll", providers["cohere"].GetProperty("path").GetString());
        Assert.Empty(json.RootElement.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task MiniMax_WithoutGroupId_ReportsMissingVariable()
    {
        var plugins = Path.Combine(AllyProcess.RepositoryRoot, "plugins");
        _folder.WriteConfig($$"""{ "provider": "minimax", "plugins_dir": {{JsonSerializer.Serialize(plugins)}} }""");
        _folder.WriteEnv("MINIMAX_API_KEY=minimax-secret-key-000111\n");

        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("MINIMAX_GROUP_ID", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("minimax-secret-key-000111", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }
}
