using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Plugins;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Usage;
using Ally.Host.Tests.Fakes;
using OpenAI;

namespace Ally.Host.Tests.Gateway;

/// <summary>
/// A real gateway on 127.0.0.1:0 built from a config.json written for the test, whose providers point at loopback
/// fakes, behind the real router with a usage store in the test's temp folder, as <c>ally serve</c> builds it; the
/// environment is the test's own dictionary, never the machine's. The router neither retries nor waits unless a
/// test's config says so, so that failures surface at once.
/// </summary>
internal sealed class TestGateway : IAsyncDisposable
{
    public const string ClientKey = "client-key-0123456789abcdef";
    public const string AdminKey = "admin-key-0123456789abcdef";

    private readonly string _directory;
    private readonly List<LoopbackServer> _upstreams;
    private readonly ProviderClientCache _clients;

    private TestGateway(GatewayHost host, ProviderRegistry registry, RouterFactory routers, ProviderClientCache clients, UsageStore usage, string directory, List<LoopbackServer> upstreams)
    {
        Host = host;
        Registry = registry;
        Routers = routers;
        _clients = clients;
        Usage = usage;
        _directory = directory;
        _upstreams = upstreams;
        BaseAddress = host.Addresses[0];
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public GatewayHost Host { get; }

    public ProviderRegistry Registry { get; }

    public RouterFactory Routers { get; }

    /// <summary>Gets the provider clients the router uses, cached per provider and model.</summary>
    public ProviderClientCache Clients => _clients;

    /// <summary>Gets the usage store the router records the gateway's calls in.</summary>
    public UsageStore Usage { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    /// <summary>Provider keys the fakes' entries use, by variable; every test asserts none of them leaks.</summary>
    public static IReadOnlyDictionary<string, string> ProviderKeys { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["FAKE_OPENAI_KEY"] = "sk-fake-openai-SECRET-0123456789",
        ["FAKE_ANTHROPIC_KEY"] = "sk-ant-fake-SECRET-0123456789",
        ["FAKE_GEMINI_KEY"] = "AIza-fake-SECRET-0123456789",
        ["FAKE_OLLAMA_KEY"] = "ollama-fake-SECRET-0123456789",
        ["FAKE_BACKUP_KEY"] = "sk-fake-backup-SECRET-0123456789",
    };

    /// <summary>Starts the gateway. <paramref name="providers"/> maps a provider name to its protocol type and fake server.</summary>
    /// <param name="chatClients">Where chat clients come from instead of the router, for a test that must control what a client hands over and when.</param>
    public static async Task<TestGateway> StartAsync(
        IReadOnlyDictionary<string, (string Type, LoopbackServer Server, string KeyVariable, string Model)> providers,
        Action<JsonObject>? configure = null,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null,
        IGatewayClientFactory? chatClients = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ally-gateway-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var providerEntries = new JsonObject();
        foreach (var (name, (type, server, keyVariable, model)) in providers)
        {
            var baseUrl = type == "openai-compatible" ? new Uri(server.BaseAddress, "v1").ToString() : server.BaseAddress.ToString();
            providerEntries[name] = new JsonObject
            {
                ["type"] = type,
                ["base_url"] = baseUrl,
                ["api_key_env"] = keyVariable,
                ["default_model"] = model,
                ["timeout_seconds"] = 10,
            };
        }

        var config = new JsonObject
        {
            ["provider"] = providers.Keys.FirstOrDefault(),
            ["providers"] = providerEntries,
            ["gateway"] = new JsonObject { ["urls"] = new JsonArray("http://127.0.0.1:0") },
            ["router"] = new JsonObject { ["max_retries"] = 0, ["max_retry_wait_seconds"] = 0 },
        };
        configure?.Invoke(config);
        var path = Path.Combine(directory, "config.json");
        await File.WriteAllTextAsync(path, config.ToJsonString(), cancellationToken);

        var values = new Dictionary<string, string>(ProviderKeys, StringComparer.Ordinal);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        var loaded = ConfigLoader.Load(path, currentDirectory: directory);
        var env = new AllyEnvironment(values, _ => null, Path.Combine(directory, ".env"));
        var registry = new ProviderRegistry(loaded, env, PluginCatalog.Empty(loaded.PluginsDirectory));
        var routing = RoutingConfig.Parse(loaded.Root, loaded.DisplayPath);
        var usage = new UsageStore(UsageStore.DefaultPath(name => name == "ALLY_HOME" ? directory : null));
        var clients = new ProviderClientCache(registry);
        var routers = new RouterFactory(clients, routing, PriceTable.Create(routing.Pricing), usage, TimeProvider.System);
        var options = GatewayOptions.Read(loaded, env);
        var host = await GatewayHost.StartAsync(
            new GatewayServices
            {
                Registry = registry,
                Redactor = new SecretRedactor(values.Values),
                Clients = chatClients ?? new RouterClientFactory(routers),
                Usage = usage,
                LoggerFactory = loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            },
            options,
            cancellationToken);
        return new TestGateway(host, registry, routers, clients, usage, directory, [.. providers.Values.Select(p => p.Server)]);
    }

    /// <summary>Starts one fake per protocol and a gateway over them: <c>oai</c>, <c>claude</c>, <c>gem</c>, <c>llama</c>.</summary>
    public static async Task<TestGateway> StartAllProtocolsAsync(Action<JsonObject>? configure = null, CancellationToken cancellationToken = default)
    {
        var openai = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI(), cancellationToken);
        var anthropic = await LoopbackServer.StartAsync(FakeUpstreams.Anthropic(), cancellationToken);
        var gemini = await LoopbackServer.StartAsync(FakeUpstreams.Gemini(), cancellationToken);
        var ollama = await LoopbackServer.StartAsync(FakeUpstreams.Ollama(), cancellationToken);
        return await StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)>
            {
                ["oai"] = ("openai-compatible", openai, "FAKE_OPENAI_KEY", "gpt-4o-mini"),
                ["claude"] = ("anthropic-compatible", anthropic, "FAKE_ANTHROPIC_KEY", "claude-sonnet-4-5"),
                ["gem"] = ("gemini", gemini, "FAKE_GEMINI_KEY", "gemini-2.0-flash"),
                ["llama"] = ("ollama", ollama, "FAKE_OLLAMA_KEY", "llama3.1"),
            },
            configure,
            cancellationToken: cancellationToken);
    }

    /// <summary>Starts a gateway over one OpenAI-compatible fake named <c>oai</c> answering with <paramref name="handler"/>.</summary>
    public static async Task<TestGateway> StartOpenAIAsync(
        Func<Microsoft.AspNetCore.Http.HttpContext, Task> handler,
        Action<JsonObject>? configure = null,
        CancellationToken cancellationToken = default,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var server = await LoopbackServer.StartAsync(handler, cancellationToken);
        return await StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)> { ["oai"] = ("openai-compatible", server, "FAKE_OPENAI_KEY", "gpt-4o-mini") },
            configure,
            cancellationToken: cancellationToken,
            loggerFactory: loggerFactory);
    }

    public LoopbackServer Upstream(int index = 0) => _upstreams[index];

    /// <summary>Reads the calls the router recorded, newest first.</summary>
    public async Task<IReadOnlyList<UsageRecord>> RecordsAsync(CancellationToken cancellationToken = default)
    {
        await Usage.FlushAsync(cancellationToken);
        return await Usage.ReadLatestAsync(null, 100, cancellationToken);
    }

    /// <summary>An official OpenAI SDK client pointed at the gateway, without retries so that errors surface at once.</summary>
    public OpenAIClient Sdk(string key = "no-key-needed-here") => new(new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(30),
    });

    /// <summary>Fails when any provider key appears in <paramref name="text"/>.</summary>
    public static void AssertNoProviderKey(string text)
    {
        foreach (var key in ProviderKeys.Values)
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        Routers.Dispose();
        _clients.Dispose();
        Usage.Dispose();
        foreach (var upstream in _upstreams)
        {
            try
            {
                await upstream.DisposeAsync();
            }
            catch (ObjectDisposedException)
            {
                // A test stopped this fake itself to simulate a provider that is down.
            }
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
