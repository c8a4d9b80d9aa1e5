using Ally.Host.Cli;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Plugins;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Terminal;
using Ally.Host.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ally.Host;

/// <summary>The composition root: read configuration, load plugins, build the provider registry, run the command.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var streams = StandardStreams.FromConsole();
        var cli = new AllyCommandLine(streams, global => Compose(global, streams));
        return await cli.InvokeAsync(args);
    }

    private static IHost Compose(GlobalArguments global, StandardStreams streams)
    {
        var currentDirectory = Environment.CurrentDirectory;
        var configPath = ConfigLoader.Locate(global.ConfigPath, Environment.GetEnvironmentVariable, currentDirectory);
        var config = ConfigLoader.Load(configPath, global.PluginsPath, currentDirectory);
        var envWarnings = new List<string>();
        var environment = AllyEnvironment.Load(config.Directory, envWarnings.Add);

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders()
            .SetMinimumLevel(global.Verbose ? LogLevel.Debug : LogLevel.Warning)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        builder.Services
            .AddSingleton(TimeProvider.System)
            .AddSingleton(streams)
            .AddSingleton(config)
            .AddSingleton(environment)
            .AddSingleton(sp => new PluginLoader(sp.GetRequiredService<ILogger<PluginLoader>>(), currentDirectory))
            .AddSingleton(sp => sp.GetRequiredService<PluginLoader>().Load(config.PluginsDirectory))
            .AddSingleton<ProviderRegistry>()
            .AddSingleton<ProviderProbe>()
            .AddSingleton(RoutingConfig.Parse(config.Root, config.DisplayPath))
            .AddSingleton(sp => new UsageStore(UsageStore.DefaultPath(environment.Get)))
            .AddSingleton(sp => PriceTable.Create(
                sp.GetRequiredService<RoutingConfig>().Pricing,
                sp.GetRequiredService<PluginCatalog>().Plugins.SelectMany(p => p.Plugin.Prices.Select(price => (p.Name, price)))))
            .AddSingleton<ProviderClientCache>()
            .AddSingleton(sp => new RouterFactory(
                sp.GetRequiredService<ProviderClientCache>(),
                sp.GetRequiredService<RoutingConfig>(),
                sp.GetRequiredService<PriceTable>(),
                sp.GetRequiredService<UsageStore>,
                sp.GetRequiredService<TimeProvider>()))
            .AddSingleton<IGatewayClientFactory>(sp => new RouterClientFactory(sp.GetRequiredService<RouterFactory>()))
            .AddSingleton(sp => SecretRedactor.FromEnvironment(
                environment,
                sp.GetRequiredService<ProviderRegistry>().Entries.SelectMany(e => e.Plugin.RequiredEnvVars.Concat(e.Definition?.KeyVariables ?? []))));

        var host = builder.Build();
        foreach (var warning in envWarnings)
        {
            streams.Error.WriteLine($"warning: {warning}");
        }

        return host;
    }
}
