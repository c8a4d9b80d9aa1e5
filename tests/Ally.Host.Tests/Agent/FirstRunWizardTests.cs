using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Configuration;
using Ally.Host.Plugins;
using Ally.Host.Providers;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Ally.Host.Tests.Agent;

public sealed class FirstRunWizardTests : IDisposable
{
    private const string Key = "gsk_test_0123456789abcdef";
    internal const string UnsetKeyConfig = """
        {
          "provider": "custom",
          "providers": { "custom": { "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "ALLY_TEST_UNSET_KEY_7F3", "default_model": "m" } }
        }
        """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task RunAsync_ChooseKeyCheckSave_WritesDotEnvMode600AndConfigKeepingOtherKeys()
    {
        // Given a config whose provider has no key, and an existing .env with another variable
        var registry = Registry("""{ "provider": "openai", "model": "gpt-4.1-mini", "temperatures": { "general": 0.7 }, "plugins_dir": "plugins" }""");
        _folder.Write(".env", "# mine\nOTHER_VAR=keep me\n");
        var terminal = new TestTerminal();
        terminal.Keys.Line("nope").Line("groq").Line(Key);
        var probe = new TestProviderProbe();
        Assert.True(FirstRunWizard.IsNeeded(registry, AllyRoles.General, null));

        // When
        var saved = await new FirstRunWizard(terminal, registry, probe).RunAsync(TestContext.Current.CancellationToken);

        // Then the key was checked, saved privately, and the choice saved with the rest of config.json kept
        Assert.True(saved);
        Assert.Equal(Key, Assert.Single(probe.Probed).ApiKey);
        var env = File.ReadAllText(_folder.Combine(".env"));
        Assert.Equal($"# mine\nOTHER_VAR=keep me\nGROQ_API_KEY={Key}\n", env);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_folder.Combine(".env")));
        }

        using var config = JsonDocument.Parse(File.ReadAllText(_folder.Combine("config.json")));
        Assert.Equal("groq", config.RootElement.GetProperty("provider").GetString());
        Assert.Equal("llama-3.3-70b-versatile", config.RootElement.GetProperty("model").GetString());
        Assert.Equal(0.7, config.RootElement.GetProperty("temperatures").GetProperty("general").GetDouble());
        Assert.Equal("plugins", config.RootElement.GetProperty("plugins_dir").GetString());
        Assert.Contains("'nope' is not in the list.", terminal.Output, StringComparison.Ordinal);
        Assert.Contains("✓ groq answered and lists 3 models.", terminal.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CheckFails_TryAgainWithAnotherKey()
    {
        // Given a probe that refuses the first key and echoes it in its message
        var registry = Registry("{}");
        var terminal = new TestTerminal();
        terminal.Keys.Line("mistral").Line("wrong-key-123456").Line("r").Line("right-key-123456");
        var probe = new TestProviderProbe(new ProviderException(ProviderErrorKind.Authentication, "invalid key wrong-key-123456", "mistral", 401));

        // When
        var saved = await new FirstRunWizard(terminal, registry, probe).RunAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.True(saved);
        Assert.Contains("mistral refused the key (HTTP 401)", terminal.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key-123456", terminal.Output, StringComparison.Ordinal);
        Assert.Equal("MISTRAL_API_KEY=right-key-123456\n", File.ReadAllText(_folder.Combine(".env")));
    }

    [Fact]
    public async Task RunAsync_LocalServer_AsksForTheEndpointAndSavesItInConfig()
    {
        // Given a local server without a default model
        var registry = Registry("{}");
        var terminal = new TestTerminal();
        terminal.Keys.Line("vllm").Line("http://gpu-box:8000/v1").Enter().Line("qwen3");
        var probe = new TestProviderProbe();

        // When
        var saved = await new FirstRunWizard(terminal, registry, probe).RunAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.True(saved);
        Assert.Equal(new Uri("http://gpu-box:8000/v1"), probe.Probed[0].BaseUrl);
        Assert.Equal("qwen3", probe.Probed[0].Model);
        Assert.False(File.Exists(_folder.Combine(".env")));
        using var config = JsonDocument.Parse(File.ReadAllText(_folder.Combine("config.json")));
        Assert.Equal("vllm", config.RootElement.GetProperty("provider").GetString());
        Assert.Equal("qwen3", config.RootElement.GetProperty("model").GetString());
        Assert.Equal("http://gpu-box:8000/v1", config.RootElement.GetProperty("providers").GetProperty("vllm").GetProperty("base_url").GetString());
    }

    [Fact]
    public async Task RunAsync_EmptyAnswer_SavesNothing()
    {
        // Given
        var registry = Registry("{}");
        var terminal = new TestTerminal();
        terminal.Keys.Enter();

        // When
        var saved = await new FirstRunWizard(terminal, registry, new TestProviderProbe()).RunAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.False(saved);
        Assert.False(File.Exists(_folder.Combine(".env")));
    }

    [Fact]
    public async Task Ally_FirstRunInATerminal_RunsTheWizardThenTheChatWithTheSavedProvider()
    {
        // Given no usable provider (its key variable is set nowhere), a terminal, and a probe that accepts the key
        using var cli = new CliRunner(UnsetKeyConfig);
        var terminal = new TestTerminal();
        var client = new TestChatClient { GetStreamingResponseAsyncCallback = (_, _, _) => TestChatClient.Text("Hi there.") };
        var clients = new TestChatClientProvider(client);
        cli.Overrides = services => services
            .AddSingleton<IAnsiConsole>(terminal)
            .AddSingleton<IProviderProbe>(new TestProviderProbe())
            .AddSingleton<Ally.Host.Agent.IChatClientProvider>(clients)
            .AddSingleton<Ally.Host.Terminal.IInterruptSignal>(new TestInterruptSignal());
        terminal.Keys.Line("custom").Line(Key).Line("hello").Line("/exit").End();

        // When
        var (code, _, stderr) = await cli.RunAsync([], terminal: true);
        Assert.True(code == 0, terminal.Output + stderr);

        // Then the chat ran with the provider the wizard saved
        Assert.True(code == 0, stderr);
        Assert.Contains("Hi there.", terminal.Output, StringComparison.Ordinal);
        Assert.Equal("custom", Assert.Single(clients.Targets).Provider);
        Assert.Contains($"ALLY_TEST_UNSET_KEY_7F3={Key}", File.ReadAllText(Path.Combine(cli.ConfigDirectory, ".env")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilentLocalServer_NothingListening_SaysSo_ListeningOrKeyedProvider_IsNull()
    {
        // Given ollama selected, once at a port where nothing listens and once at a server that lists its models
        await using var server = await LoopbackServer.StartAsync(
            context => context.Response.WriteAsync("""{"models":[{"name":"llama3.2"}]}""", context.RequestAborted),
            TestContext.Current.CancellationToken);
        var silent = Registry("""{ "provider": "ollama", "providers": { "ollama": { "base_url": "http://127.0.0.1:9" } } }""");
        var listening = Registry($$"""{ "provider": "ollama", "providers": { "ollama": { "base_url": "{{server.BaseAddress}}" } } }""");
        var keyed = Registry(UnsetKeyConfig);
        var probe = new PluginProviderProbe();

        // When / Then
        Assert.False(FirstRunWizard.IsNeeded(silent, AllyRoles.General, null));
        var reason = await FirstRunWizard.SilentLocalServerAsync(silent, probe, AllyRoles.General, null, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("ollama needs no key, but nothing answers at http://127.0.0.1:9/.", reason);
        Assert.Null(await FirstRunWizard.SilentLocalServerAsync(listening, probe, AllyRoles.General, null, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Null(await FirstRunWizard.SilentLocalServerAsync(keyed, new TestProviderProbe(new InvalidOperationException("never asked")), AllyRoles.General, null, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Ally_LocalServerSelectedButNotRunning_OffersTheWizardInsteadOfAChatThatCannotAnswer()
    {
        // Given ollama selected (it needs no key) with nothing listening at its address, and a terminal
        using var cli = new CliRunner("""{ "provider": "ollama", "providers": { "ollama": { "base_url": "http://127.0.0.1:9" } } }""");
        var terminal = new TestTerminal();
        cli.Overrides = services => services
            .AddSingleton<IAnsiConsole>(terminal)
            .AddSingleton<Ally.Host.Terminal.IInterruptSignal>(new TestInterruptSignal());
        terminal.Keys.Line(string.Empty).End();

        // When ally starts and the user leaves the wizard
        var (code, _, _) = await cli.RunAsync([], terminal: true);

        // Then it said why and nothing was saved
        Assert.Equal(2, code);
        Assert.Contains("ollama needs no key, but nothing answers at http://127.0.0.1:9/. Start it, or set up another provider.", terminal.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("general ›", terminal.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WithAReason_SaysWhyTheConfiguredProviderCannotBeUsed()
    {
        var registry = Registry("""{ "provider": "ollama" }""");
        var terminal = new TestTerminal();
        terminal.Keys.Line(string.Empty);

        var saved = await new FirstRunWizard(terminal, registry, new TestProviderProbe()).RunAsync("ollama needs no key, but nothing answers at http://localhost:11434/.", TestContext.Current.CancellationToken);

        Assert.False(saved);
        Assert.Contains("nothing answers at http://localhost:11434/. Start it, or set up another provider.", terminal.Output, StringComparison.Ordinal);
    }

    private ProviderRegistry Registry(string json)
    {
        var path = _folder.Write("config.json", json);
        var config = ConfigLoader.Load(path, currentDirectory: _folder.Path);
        var environment = new AllyEnvironment(new Dictionary<string, string>(), _ => null, _folder.Combine(".env"));
        return new ProviderRegistry(config, environment, PluginCatalog.Empty(config.PluginsDirectory));
    }
}
