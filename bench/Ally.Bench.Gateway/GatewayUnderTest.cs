using System.Text.Json.Nodes;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Logging;
using Ally.Host.Plugins;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Usage;
using Microsoft.Extensions.Logging;

namespace Ally.Bench.Gateway;

/// <summary>
/// The real gateway as <c>ally serve</c> builds it, in front of one <c>openai-compatible</c> upstream: config.json in a
/// temp folder, the router over the shared client cache recording every call in a SQLite usage store, and the file
/// log at Debug. <c>--no-usage</c>, <c>--no-router</c> and <c>--no-log</c> take those parts out; <c>--inline-io</c> sets <c>gateway.inline_io</c>.
/// </summary>
internal sealed class GatewayUnderTest : IAsyncDisposable
{
    public const string ClientKey = "bench-client-key-0123456789abcdef";

    private readonly string _directory;
    private readonly UsageStore _usage;
    private readonly IDisposable[] _owned;
    private readonly GatewayHost _host;

    private GatewayUnderTest(string directory, UsageStore usage, IDisposable[] owned, GatewayHost host)
    {
        _directory = directory;
        _usage = usage;
        _owned = owned;
        _host = host;
    }

    public Uri ChatUrl => new(_host.Addresses[0], "v1/chat/completions");

    public static async Task<GatewayUnderTest> StartAsync(Uri upstream, bool viaRouter, bool recordUsage, bool fileLog, bool inlineIo)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ally-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var config = new JsonObject
        {
            ["provider"] = "fake",
            ["providers"] = new JsonObject
            {
                ["fake"] = new JsonObject
                {
                    ["type"] = "openai-compatible",
                    ["base_url"] = new Uri(upstream, "v1").ToString(),
                    ["api_key_env"] = "FAKE_API_KEY",
                    ["default_model"] = "gpt-4o-mini",
                },
            },
            ["gateway"] = new JsonObject { ["urls"] = new JsonArray("http://127.0.0.1:0"), ["keys"] = new JsonArray(ClientKey), ["max_concurrent_streams"] = 1024, ["inline_io"] = inlineIo },
        };
        var configPath = Path.Combine(directory, "config.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["FAKE_API_KEY"] = "sk-bench-0123456789" };
        var loaded = ConfigLoader.Load(configPath, currentDirectory: directory);
        var environment = new AllyEnvironment(values, _ => null);
        var registry = new ProviderRegistry(loaded, environment, PluginCatalog.Empty(loaded.PluginsDirectory));

        var usage = new UsageStore(Path.Combine(directory, "ally.db"));
        var clients = new ProviderClientCache(registry);
        var routing = RoutingConfig.Parse(loaded.Root, loaded.DisplayPath);
        var routers = new RouterFactory(clients, routing, PriceTable.Create(routing.Pricing), recordUsage ? usage : null, TimeProvider.System);
        IGatewayClientFactory gatewayClients = viaRouter ? new RouterClientFactory(routers) : new DirectClientFactory(clients);

        // Logging as `ally serve` has it: everything from Debug up goes to the daily file in the data folder.
        var fileLogs = new FileLoggerProvider(Path.Combine(directory, "logs"), TimeProvider.System, LogLevel.Debug);
        var loggers = LoggerFactory.Create(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            if (fileLog)
            {
                logging.AddProvider(fileLogs);
            }
        });
        // As ally serve does; the runtime half takes effect only if no socket of this process has waited yet (true in
        // --split, where this process is the gateway alone).
        var options = GatewayOptions.Read(loaded, environment);
        GatewayHost.PrepareProcess(options);
        var host = await GatewayHost.StartAsync(
            new GatewayServices { Registry = registry, Redactor = new SecretRedactor(values.Values), Clients = gatewayClients, Usage = usage, LoggerFactory = loggers },
            options);
        return new GatewayUnderTest(directory, usage, [loggers, fileLogs, routers, clients, usage], host);
    }

    public async Task<long> RecordedCallsAsync()
    {
        await _usage.FlushAsync();
        return (await UsageReport.BuildAsync(_usage, null, UsageGrouping.Provider)).Total.Calls;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
