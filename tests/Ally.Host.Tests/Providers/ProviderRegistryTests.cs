using Ally.Host.Configuration;
using Ally.Host.Plugins;
using Ally.Host.Providers;
using Ally.Host.Providers.Anthropic;
using Ally.Host.Providers.Gemini;
using Ally.Host.Providers.Ollama;
using Ally.Host.Providers.OpenAI;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers;

/// <summary>
/// The built-in providers as the README documents them, the key variables each accepts, base URL overrides and
/// providers defined in config.json by <c>type</c>, each checked through the registry and, where it matters, a call
/// to a loopback server.
/// </summary>
public sealed class ProviderRegistryTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Name, protocol, base URL, key variables (Ally's first) and default model, as README.md lists them.</summary>
    public static TheoryData<string, string, string?, string, string?> BuiltIns => new()
    {
        { "openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY", "gpt-4.1-mini" },
        { "anthropic", "Anthropic", "https://api.anthropic.com/", "ANTHROPIC_API_KEY", "claude-sonnet-4-5" },
        { "google", "Gemini", "https://generativelanguage.googleapis.com/", "GOOGLE_GEN_AI_API_KEY GEMINI_API_KEY GOOGLE_API_KEY", "gemini-2.5-flash" },
        { "ollama", "Ollama", "http://localhost:11434/", "OLLAMA_API_KEY", "llama3.2" },
        { "groq", "OpenAI", "https://api.groq.com/openai/v1", "GROQ_API_KEY", "llama-3.3-70b-versatile" },
        { "cerebras", "OpenAI", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", "gpt-oss-120b" },
        { "openrouter", "OpenAI", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", "openai/gpt-4o-mini" },
        { "github", "OpenAI", "https://models.github.ai/inference", "GITHUB_AI_API_KEY GITHUB_TOKEN", "openai/gpt-4.1-mini" },
        { "mistral", "OpenAI", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", "mistral-small-latest" },
        { "together", "OpenAI", "https://api.together.xyz/v1", "TOGETHER_API_KEY TOGETHER_AI_API_KEY", "meta-llama/Llama-3.3-70B-Instruct-Turbo" },
        { "deepseek", "OpenAI", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", "deepseek-chat" },
        { "xai", "OpenAI", "https://api.x.ai/v1", "XAI_API_KEY GROK_API_KEY", "grok-3-mini" },
        { "fireworks", "OpenAI", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY FIREWORKS_AI_API_KEY", "accounts/fireworks/models/llama-v3p3-70b-instruct" },
        { "perplexity", "OpenAI", "https://api.perplexity.ai/", "PERPLEXITY_API_KEY PPLX_API_KEY", "sonar" },
        { "deepinfra", "OpenAI", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY DEEPINFRA_TOKEN", "meta-llama/Llama-3.3-70B-Instruct" },
        { "huggingface", "OpenAI", "https://router.huggingface.co/v1", "HF_TOKEN HUGGINGFACE_API_KEY", "meta-llama/Llama-3.1-8B-Instruct" },
        { "azure", "AzureOpenAI", null, "AZURE_OPENAI_API_KEY AZURE_API_KEY", "gpt-4.1-mini" },
        { "lmstudio", "OpenAI", "http://localhost:1234/v1", "LMSTUDIO_API_KEY", null },
        { "vllm", "OpenAI", "http://localhost:8000/v1", "VLLM_API_KEY", null },
        { "llamacpp", "OpenAI", "http://localhost:8080/v1", "LLAMACPP_API_KEY", "default" },
        { "localai", "OpenAI", "http://localhost:8080/v1", "LOCALAI_API_KEY", null },
    };

    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void BuiltIn_EachProvider_HasItsDocumentedEndpointKeysAndModel(string name, string protocol, string? baseUrl, string keys, string? defaultModel)
    {
        // Given a registry with no config and no keys
        var registry = Registry("{}");

        // When the built-in is looked up
        var entry = registry.Find(name);

        // Then it is served by the right protocol, from the documented place, with the documented key names
        Assert.NotNull(entry);
        Assert.Equal(ProviderSource.BuiltIn, entry.Source);
        var definition = entry.Definition!;
        Assert.Equal(Enum.Parse<ProviderProtocol>(protocol), definition.Protocol);
        Assert.Equal(baseUrl, definition.BaseUrl?.ToString());
        Assert.Equal(keys.Split(' '), definition.KeyVariables);
        Assert.Equal(defaultModel, entry.Plugin.DefaultModel);
        Assert.Equal(defaultModel, registry.ResolveSettings(entry).Model);
    }

    [Fact]
    public void BuiltIns_All_AreExactlyTheDocumentedOnes()
    {
        string[] documented =
        [
            "anthropic", "azure", "cerebras", "deepinfra", "deepseek", "fireworks", "github", "google", "groq", "huggingface", "llamacpp",
            "lmstudio", "localai", "mistral", "ollama", "openai", "openrouter", "perplexity", "together", "vllm", "xai",
        ];

        Assert.Equal(documented, BuiltInProviders.All.Select(d => d.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("openai", true)]
    [InlineData("google", true)]
    [InlineData("azure", true)]
    [InlineData("ollama", false)]
    [InlineData("lmstudio", false)]
    [InlineData("vllm", false)]
    [InlineData("llamacpp", false)]
    [InlineData("localai", false)]
    public void GetStatus_NoKeySet_KeyNeededOnlyByHostedServices(string name, bool needsKey)
    {
        var registry = Registry("{}");

        var status = registry.GetStatus(registry.Get(name));

        Assert.Equal(needsKey ? ProviderStatus.MissingEnv : ProviderStatus.Ready, status.State);
    }

    [Fact]
    public void Find_Gemini_IsTheGoogleProvider()
    {
        var registry = Registry("{}");

        Assert.Equal("google", registry.Find("gemini")?.Name);
        Assert.Equal("google", registry.Find("GEMINI")?.Name);
    }

    [Fact]
    public void ProviderClientCache_CanonicalName_GivesTheRegisteredNameOfAnAlias()
    {
        // Given: the router's source of clients over the real registry
        using var clients = new ProviderClientCache(Registry("{}"));

        // When / Then: gemini is google; an unknown name is left for the router to report
        Assert.Equal(("google", "google", "groq", "no-such"), (clients.CanonicalName("gemini"), clients.CanonicalName("Gemini"), clients.CanonicalName("groq"), clients.CanonicalName("no-such")));
    }

    [Theory]
    [InlineData("google", "GOOGLE_GEN_AI_API_KEY")]
    [InlineData("google", "GEMINI_API_KEY")]
    [InlineData("google", "GOOGLE_API_KEY")]
    [InlineData("github", "GITHUB_AI_API_KEY")]
    [InlineData("github", "GITHUB_TOKEN")]
    [InlineData("perplexity", "PPLX_API_KEY")]
    [InlineData("huggingface", "HUGGINGFACE_API_KEY")]
    [InlineData("xai", "GROK_API_KEY")]
    [InlineData("together", "TOGETHER_AI_API_KEY")]
    [InlineData("azure", "AZURE_API_KEY")]
    public void ResolveSettings_OnlyOneAcceptedKeyNameSet_IsReadyWithThatKey(string name, string variable)
    {
        // Given only one of the names the provider accepts
        var registry = Registry("""{ "providers": { "azure": { "base_url": "https://res.openai.azure.com" } } }""", new() { [variable] = "key-from-" + variable });
        var entry = registry.Get(name);

        // When the provider's settings are resolved
        var status = registry.GetStatus(entry);
        var settings = registry.ResolveSettings(entry);

        // Then the provider is ready and uses that key
        Assert.True(status.IsReady, status.Message);
        Assert.Equal("key-from-" + variable, settings.ApiKey);
    }

    [Fact]
    public void ResolveSettings_AllyNameAndVendorNameBothSet_AllyNameWins()
    {
        var registry = Registry("{}", new() { ["GEMINI_API_KEY"] = "vendor", ["GOOGLE_GEN_AI_API_KEY"] = "ally" });

        Assert.Equal("ally", registry.ResolveSettings(registry.Get("gemini")).ApiKey);
    }

    [Fact]
    public void ResolveSettings_OllamaHost_BecomesTheBaseUrlAndConfigBaseUrlWinsOverIt()
    {
        // OLLAMA_HOST takes the forms the ollama CLI takes: host:port without a scheme.
        var fromVariable = Registry("{}", new() { ["OLLAMA_HOST"] = "gpu-box:11500" });
        var fromConfig = Registry("""{ "providers": { "ollama": { "base_url": "http://127.0.0.1:9999" } } }""", new() { ["OLLAMA_HOST"] = "gpu-box:11500" });

        Assert.Equal(new Uri("http://gpu-box:11500/"), fromVariable.ResolveSettings(fromVariable.Get("ollama")).BaseUrl);
        Assert.Equal(new Uri("http://127.0.0.1:9999"), fromConfig.ResolveSettings(fromConfig.Get("ollama")).BaseUrl);
    }

    [Fact]
    public void GetStatus_AzureWithoutEndpoint_IsInvalidNamingTheVariableAndTheConfigKey()
    {
        var registry = Registry("{}", new() { ["AZURE_OPENAI_API_KEY"] = "k" });

        var status = registry.GetStatus(registry.Get("azure"));

        Assert.Equal(ProviderStatus.Invalid, status.State);
        Assert.Contains("AZURE_OPENAI_ENDPOINT", status.Message, StringComparison.Ordinal);
        Assert.Contains("providers.azure.base_url", status.Message, StringComparison.Ordinal);
    }

    /// <summary>A built-in of each protocol, pointed at a loopback server by <c>providers.NAME.base_url</c> (or Azure's endpoint variable).</summary>
    [Theory]
    [InlineData("openai", "/v1", "/v1/chat/completions", "Authorization", "Bearer {0}")]
    [InlineData("groq", "/openai/v1", "/openai/v1/chat/completions", "Authorization", "Bearer {0}")]
    [InlineData("anthropic", "", "/v1/messages", "x-api-key", "{0}")]
    [InlineData("google", "", "/v1beta/models/model-x:generateContent", "x-goog-api-key", "{0}")]
    [InlineData("ollama", "", "/api/chat", null, null)]
    [InlineData("azure", "", "/openai/deployments/model-x/chat/completions?api-version=2024-10-21", "api-key", "{0}")]
    public async Task CreateClient_BaseUrlOverridden_CallsTheOverrideWithTheProvidersOwnAuth(string name, string basePath, string expectedPath, string? keyHeader, string? keyFormat)
    {
        // Given a built-in whose base URL config.json points at a loopback server, and its key in the environment
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(ct);
        var root = server.BaseAddress.ToString().TrimEnd('/') + basePath;
        var registry = Registry(
            $$"""{ "providers": { "{{name}}": { "base_url": "{{root}}", "default_model": "model-x" } } }""",
            new() { ["OPENAI_API_KEY"] = Key, ["GROQ_API_KEY"] = Key, ["ANTHROPIC_API_KEY"] = Key, ["GEMINI_API_KEY"] = Key, ["AZURE_OPENAI_API_KEY"] = Key });

        // When it answers a prompt
        using var client = registry.CreateClient(name);
        var response = await client.GetResponseAsync("Hi", cancellationToken: ct);

        // Then the request went to the override, authenticated the provider's way, with the key never in the URL
        Assert.StartsWith("Hello from ", response.Text, StringComparison.Ordinal);
        var request = Assert.Single(server.Requests);
        Assert.Equal(expectedPath, request.PathAndQuery);
        Assert.DoesNotContain(Key, request.PathAndQuery, StringComparison.Ordinal);
        if (keyHeader is not null)
        {
            Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, keyFormat!, Key), request.Headers[keyHeader]);
        }
    }

    [Fact]
    public async Task CreateClient_AzureEndpointVariable_CallsTheDeploymentWithConfiguredApiVersion()
    {
        // Given Azure's endpoint in its usual variable, and a deployment and api_version in config.json
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(ct);
        var registry = Registry(
            """{ "providers": { "azure": { "deployment": "my-deploy", "api_version": "2025-01-01-preview" } } }""",
            new() { ["AZURE_OPENAI_ENDPOINT"] = server.BaseAddress.ToString(), ["AZURE_OPENAI_API_KEY"] = Key });

        // When it answers a prompt
        using var client = registry.CreateClient("azure");
        await client.GetResponseAsync("Hi", cancellationToken: ct);

        // Then the deployment URL carries the api-version, and the key goes in the api-key header only
        var request = Assert.Single(server.Requests);
        Assert.Equal("/openai/deployments/my-deploy/chat/completions?api-version=2025-01-01-preview", request.PathAndQuery);
        Assert.Equal(Key, request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));
    }

    [Theory]
    [InlineData("openai-compatible", "/v1", typeof(OpenAIChatClient), "/v1/chat/completions")]
    [InlineData("anthropic-compatible", "", typeof(AnthropicChatClient), "/v1/messages")]
    [InlineData("gemini", "", typeof(GeminiChatClient), "/v1beta/models/model-x:generateContent")]
    [InlineData("ollama", "", typeof(OllamaChatClient), "/api/chat")]
    [InlineData("azure", "", typeof(OpenAIChatClient), "/openai/deployments/model-x/chat/completions?api-version=2024-10-21")]
    public async Task AddConfigDefined_EachType_DefinesAProviderSpeakingThatProtocol(string type, string basePath, Type clientType, string expectedPath)
    {
        // Given a provider that exists only as a config.json entry with a type
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(ct);
        var root = server.BaseAddress.ToString().TrimEnd('/') + basePath;
        var registry = Registry(
            $$"""{ "providers": { "my-server": { "type": "{{type}}", "base_url": "{{root}}", "api_key_env": "MY_SERVER_KEY", "default_model": "model-x" } } }""",
            new() { ["MY_SERVER_KEY"] = Key });

        // When it answers a prompt
        var entry = registry.Get("my-server");
        using var client = registry.CreateClient("my-server");
        var response = await client.GetResponseAsync("Hi", cancellationToken: ct);

        // Then the provider is a config one, with that protocol's client, and the wire path of that protocol
        Assert.Equal(ProviderSource.Config, entry.Source);
        Assert.IsType(clientType, client);
        Assert.StartsWith("Hello from ", response.Text, StringComparison.Ordinal);
        Assert.Equal(expectedPath, Assert.Single(server.Requests).PathAndQuery);
    }

    [Fact]
    public async Task CreateClient_ConfigEntryUnderTheAlias_ConfiguresTheCanonicalProvider()
    {
        // Given google configured under the name the user knows it by: gemini
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(ct);
        var registry = Registry(
            $$"""{ "providers": { "gemini": { "base_url": "{{server.BaseAddress}}", "api_key_env": "MY_GEMINI_KEY", "default_model": "model-x", "timeout_seconds": 7 } } }""",
            new() { ["MY_GEMINI_KEY"] = Key });
        var entry = registry.Get("google");

        // When the provider answers a prompt
        Assert.True(registry.GetStatus(entry).IsReady, registry.GetStatus(entry).Message);
        using var client = registry.CreateClient("gemini");
        await client.GetResponseAsync("Hi", cancellationToken: ct);

        // Then every key of the entry applied: the endpoint, the key variable, the model and the timeout
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1beta/models/model-x:generateContent", request.PathAndQuery);
        Assert.Equal(Key, request.Headers["x-goog-api-key"]);
        Assert.Equal(["MY_GEMINI_KEY"], registry.RequiredVariables(entry));
        Assert.Equal(TimeSpan.FromSeconds(7), registry.ResolveSettings(entry).Timeout);
        Assert.Empty(registry.Warnings);
    }

    [Fact]
    public void ResolveSettings_EntriesUnderTheAliasAndTheOwnName_MergeWithTheOwnNameWinningAndAWarning()
    {
        // Given entries under both names, disagreeing on the model only
        var registry = Registry("""
            { "providers": {
                "google": { "default_model": "own-model", "safety": "strict" },
                "gemini": { "default_model": "alias-model", "base_url": "http://127.0.0.1:9", "safety": "off", "region": "eu" } } }
            """);

        // When the provider's settings are resolved
        var settings = registry.ResolveSettings(registry.Get("google"));

        // Then the own entry wins where both say something, the alias fills in the rest, and the user is told
        Assert.Equal("own-model", settings.Model);
        Assert.Equal(new Uri("http://127.0.0.1:9"), settings.BaseUrl);
        Assert.Equal("strict", settings.GetValue("safety"));
        Assert.Equal("eu", settings.GetValue("region"));
        var warning = Assert.Single(registry.Warnings);
        Assert.Contains("'providers.gemini' and 'providers.google'", warning, StringComparison.Ordinal);
        Assert.Contains("default_model, safety", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("base_url", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AZURE_OPENAI_API_VERSION")]
    [InlineData("OPENAI_API_VERSION")]
    public async Task CreateClient_AzureVersionAndDeploymentVariables_UsedWhenConfigNamesNone(string versionVariable)
    {
        // Given Azure configured by variables alone, as Microsoft's samples do it
        var ct = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(ct);
        var registry = Registry("{}", new()
        {
            ["AZURE_OPENAI_ENDPOINT"] = server.BaseAddress.ToString(),
            ["AZURE_OPENAI_API_KEY"] = Key,
            [versionVariable] = "2025-04-01-preview",
            ["AZURE_OPENAI_DEPLOYMENT"] = "env-deploy",
        });

        // When it answers a prompt
        using var client = registry.CreateClient("azure");
        await client.GetResponseAsync("Hi", cancellationToken: ct);

        // Then the call goes to that deployment with that api-version
        Assert.Equal("/openai/deployments/env-deploy/chat/completions?api-version=2025-04-01-preview", Assert.Single(server.Requests).PathAndQuery);
    }

    [Fact]
    public void ResolveSettings_AzureConfigAndVariablesBothSet_ConfigWins()
    {
        var variables = new Dictionary<string, string>
        {
            ["AZURE_OPENAI_ENDPOINT"] = "https://res.openai.azure.com",
            ["AZURE_OPENAI_API_VERSION"] = "from-azure-variable",
            ["OPENAI_API_VERSION"] = "from-openai-variable",
            ["AZURE_OPENAI_DEPLOYMENT"] = "env-deploy",
        };
        var configured = Registry("""{ "providers": { "azure": { "api_version": "from-config", "default_model": "config-deploy" } } }""", variables);
        var byVariable = Registry("{}", variables);

        var fromConfig = configured.ResolveSettings(configured.Get("azure"));
        var fromVariables = byVariable.ResolveSettings(byVariable.Get("azure"));

        Assert.Equal(("from-config", "config-deploy"), (fromConfig.GetValue("api_version"), fromConfig.Model));
        Assert.Equal(("from-azure-variable", "env-deploy"), (fromVariables.GetValue("api_version"), fromVariables.Model));
        Assert.Equal("explicit", byVariable.ResolveSettings(byVariable.Get("azure"), model: "explicit").Model);
    }

    [Theory]
    [InlineData("{}", null, false)]
    [InlineData("""{ "provider": "ollama" }""", null, true)]
    [InlineData("""{ "provider_per_model": { "code_gen": "ollama" } }""", null, true)]
    [InlineData("""{ "fallbacks": ["groq", "ollama/qwen3"] }""", null, true)]
    [InlineData("""{ "fallbacks": { "general": ["ollama"] } }""", null, true)]
    [InlineData("""{ "gateway": { "default_provider": "ollama" } }""", null, true)]
    [InlineData("""{ "providers": { "ollama": { "default_model": "qwen3" } } }""", null, true)]
    [InlineData("{}", "OLLAMA_HOST", true)]
    [InlineData("{}", "OLLAMA_API_KEY", true)]
    [InlineData("""{ "provider": "lmstudio", "fallbacks": ["vllm"] }""", "LOCALAI_API_KEY", false)]
    public void IsConfigured_LocalServer_OnlyWhenConfigSelectsItOrItsVariableIsSet(string configJson, string? variable, bool expected)
    {
        var registry = Registry(configJson, variable is null ? null : new() { [variable] = "http://127.0.0.1:9" });

        Assert.Equal(expected, registry.IsConfigured(registry.Get("ollama")));
    }

    [Fact]
    public void Registry_UnknownType_FailsNamingTheKeyAndTheAllowedTypes()
    {
        var failure = Assert.Throws<ConfigException>(() => Registry("""{ "providers": { "x": { "type": "openai-ish", "base_url": "http://127.0.0.1:9" } } }"""));

        Assert.Contains("providers.x.type", failure.Message, StringComparison.Ordinal);
        Assert.Contains("anthropic-compatible, azure, gemini, ollama, openai-compatible", failure.Message, StringComparison.Ordinal);
    }

    private const string Key = "registry-test-key-0123456789";

    private ProviderRegistry Registry(string configJson, Dictionary<string, string>? variables = null)
    {
        var path = _folder.Write("config.json", configJson);
        var config = ConfigLoader.Load(path, currentDirectory: _folder.Path);
        var environment = new AllyEnvironment(variables ?? [], _ => null, _folder.Combine(".env"));
        return new ProviderRegistry(config, environment, PluginCatalog.Empty(config.PluginsDirectory));
    }
}
