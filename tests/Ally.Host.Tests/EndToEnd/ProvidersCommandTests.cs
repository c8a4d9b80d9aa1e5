using System.Text.Json;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.EndToEnd;

public sealed class ProvidersCommandTests : IDisposable
{
    private const string Secret = "sk-echo-secret-value-0123456789";
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ProvidersJson_WithPluginsDroppedIn_ListsEveryProviderAndWarning()
    {
        // Given plugins dropped into a fresh folder: a good one, an override of a built-in, and two broken files
        _folder.AddFolder("TestPlugins.Echo");
        _folder.AddSingleFile("TestPlugins.OverrideOpenAI");
        _folder.AddFolder("TestPlugins.Throwing");
        File.WriteAllText(Path.Combine(_folder.Plugins, "Broken.dll"), "not a dll");
        _folder.WriteConfig("""{ "provider": "echo" }""");
        _folder.WriteEnv($"ECHO_API_KEY={Secret}\n");

        // When ally providers --json runs there
        var result = await AllyProcess.RunAsync(_folder.Root, ["providers", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        // Then it lists the plugin as ready, the override, the built-ins, and every warning, and never the key
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var providers = json.RootElement.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var echo = providers["echo"];
        Assert.Equal("plugin", echo.GetProperty("source").GetString());
        Assert.Equal("ready", echo.GetProperty("status").GetString());
        Assert.Equal("echo-1", echo.GetProperty("default_model").GetString());
        Assert.Equal(["ECHO_API_KEY"], echo.GetProperty("required_env_vars").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(echo.GetProperty("missing_env_vars").EnumerateArray());
        Assert.Contains("TestPlugins.Echo.dll", echo.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.True(providers["openai"].GetProperty("overrides_builtin").GetBoolean());
        Assert.Equal("plugin", providers["openai"].GetProperty("source").GetString());
        Assert.Equal("built-in", providers["anthropic"].GetProperty("source").GetString());
        Assert.Equal("missing-env", providers["anthropic"].GetProperty("status").GetString());
        Assert.Equal(["ANTHROPIC_API_KEY"], providers["anthropic"].GetProperty("missing_env_vars").EnumerateArray().Select(e => e.GetString()));
        Assert.True(providers.ContainsKey("google"));

        var warnings = json.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.Contains("plugin 'openai' from plugins/TestPlugins.OverrideOpenAI.dll overrides the built-in provider 'openai'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("Broken.dll is not a .NET assembly", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("always fails to start", StringComparison.Ordinal));
        Assert.Contains("warning: plugin 'openai'", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProvidersJson_HasExactlyTheDocumentedShape()
    {
        _folder.AddFolder("TestPlugins.Echo");
        _folder.WriteConfig("{}");

        var result = await AllyProcess.RunAsync(_folder.Root, ["providers", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(["providers", "warnings"], json.RootElement.EnumerateObject().Select(p => p.Name));
        string[] keys = ["name", "source", "path", "default_model", "required_env_vars", "missing_env_vars", "status", "message", "overrides_builtin"];
        foreach (var provider in json.RootElement.GetProperty("providers").EnumerateArray())
        {
            Assert.Equal(keys, provider.EnumerateObject().Select(p => p.Name));
            Assert.Contains(provider.GetProperty("source").GetString(), new[] { "built-in", "plugin", "config" });
            Assert.Contains(provider.GetProperty("status").GetString(), new[] { "ready", "missing-env", "invalid" });
            Assert.Equal(provider.GetProperty("source").GetString() == "built-in", provider.GetProperty("path").ValueKind == JsonValueKind.Null);
        }
    }

    [Fact]
    public async Task Providers_SelectedProviderNotInstalled_IsListedAsAWarning()
    {
        // Given a config.json whose provider and one role's provider are not installed
        _folder.WriteConfig("""{ "provider": "nope", "provider_per_model": { "code_gen": "missing-too", "general": null } }""");

        // When the user asks what is installed
        var text = await AllyProcess.RunAsync(_folder.Root, ["providers"], cancellationToken: TestContext.Current.CancellationToken);
        var json = await AllyProcess.RunAsync(_folder.Root, ["providers", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the listing still works and says which selections name no installed provider
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("config.json: 'provider' is 'nope', which is not installed", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("'provider_per_model.code_gen' is 'missing-too'", text.StandardOutput, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.StandardOutput);
        var warnings = document.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.Contains("'provider' is 'nope', which is not installed", StringComparison.Ordinal));
        Assert.Equal(2, warnings.Count(w => w.Contains("which is not installed", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Providers_PluginsOption_OverridesConfiguredFolder()
    {
        // Given a plugin in a folder that config.json does not name
        var elsewhere = Path.Combine(_folder.Root, "other-plugins");
        Directory.CreateDirectory(elsewhere);
        File.Copy(Path.Combine(TestPluginFolder.BuildOutput("TestPlugins.Echo"), "TestPlugins.Echo.dll"), Path.Combine(elsewhere, "TestPlugins.Echo.dll"));
        _folder.WriteConfig("""{ "plugins_dir": "nowhere" }""");

        // When --plugins points at it
        var result = await AllyProcess.RunAsync(_folder.Root, ["providers", "--json", "--plugins", elsewhere], cancellationToken: TestContext.Current.CancellationToken);

        // Then the plugin is found there, with its missing key reported
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var echo = json.RootElement.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "echo");
        Assert.Equal("missing-env", echo.GetProperty("status").GetString());
        Assert.Equal(["ECHO_API_KEY"], echo.GetProperty("missing_env_vars").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Prompt_ThroughDroppedInPlugin_AnswersAsJson()
    {
        _folder.AddFolder("TestPlugins.Echo");
        _folder.WriteConfig("""{ "provider": "echo" }""");
        _folder.WriteEnv($"ECHO_API_KEY={Secret}\n");

        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hello there", "--json", "--no-tools"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal("echo[echo-1]: hello there", json.RootElement.GetProperty("text").GetString()!.Trim());
        Assert.Equal("echo", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal("stop", json.RootElement.GetProperty("finish_reason").GetString());
        Assert.Equal(5, json.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Prompt_PluginConfigInvalid_ExitsTwoWithPluginsMessage()
    {
        _folder.AddFolder("TestPlugins.Echo");
        _folder.WriteConfig("""{ "provider": "echo", "providers": { "echo": { "mode": "broken" } } }""");
        _folder.WriteEnv($"ECHO_API_KEY={Secret}\n");

        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("providers.echo.mode must not be 'broken'", result.StandardError, StringComparison.Ordinal);
    }
}
