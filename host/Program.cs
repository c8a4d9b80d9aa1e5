using Ally.Host.Agent;
using Ally.Host.Cli;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Logging;
using Ally.Host.Plugins;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Sessions;
using Ally.Host.Terminal;
using Ally.Host.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Ally.Host;

/// <summary>The composition root: read configuration, load plugins, build the provider registry and the router, run the command.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var streams = StandardStreams.FromConsole();
        var cli = new AllyCommandLine(streams, global => Compose(global, streams));
        return await cli.InvokeAsync(args);
    }

    /// <summary>Composes the host; <paramref name="overrides"/> lets tests replace services (the last registration wins).</summary>
    internal static IHost Compose(GlobalArguments global, StandardStreams streams, Action<IServiceCollection>? overrides = null)
    {
        var currentDirectory = Environment.CurrentDirectory;
        var configPath = ConfigLoader.Locate(global.ConfigPath, Environment.GetEnvironmentVariable, currentDirectory);
        var config = ConfigLoader.Load(configPath, global.PluginsPath, currentDirectory);
        var envWarnings = new List<string>();
        var environment = AllyEnvironment.Load(config.Directory, envWarnings.Add);

        var dataDirectory = AllyPaths.DataDirectory(environment.Get);
        var fileLogs = new FileLoggerProvider(Path.Combine(dataDirectory, "logs"), TimeProvider.System, global.Verbose ? LogLevel.Trace : LogLevel.Debug);

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var redaction = new LogRedaction();
        fileLogs.Redact = redaction.Apply;
        builder.Logging.ClearProviders()
            .SetMinimumLevel(LogLevel.Trace)
            .AddProvider(fileLogs)
            .AddConsole(o => (o.FormatterName, o.LogToStandardErrorThreshold) = (ConsoleLineFormatter.FormatterName, LogLevel.Trace))
            .AddConsoleFormatter<ConsoleLineFormatter, ConsoleLineFormatterOptions>(o => o.Verbose = global.Verbose)
            .AddFilter<ConsoleLoggerProvider>(null, global.Verbose ? LogLevel.Debug : LogLevel.Warning);
        if (!global.Verbose)
        {
            // Short lines only; the details are in the log file. The chat shows its own failures in plain sentences.
            builder.Logging.AddFilter<ConsoleLoggerProvider>(AgentComposition.LogCategory, LogLevel.None);
        }

        builder.Services
            // Configuration and plugins
            .AddSingleton(TimeProvider.System)
            .AddSingleton(streams)
            .AddSingleton(config)
            .AddSingleton(environment)
            .AddSingleton(sp => new PluginLoader(sp.GetRequiredService<ILogger<PluginLoader>>(), currentDirectory))
            .AddSingleton(sp => sp.GetRequiredService<PluginLoader>().Load(config.PluginsDirectory))
            .AddSingleton(sp => SecretRedactor.FromEnvironment(
                environment,
                sp.GetRequiredService<ProviderRegistry>().Entries.SelectMany(e => e.Plugin.RequiredEnvVars.Concat(e.Definition?.KeyVariables ?? []))))
            .AddSingleton(fileLogs)
            .AddSingleton(redaction)

            // Providers
            .AddSingleton<ProviderRegistry>()
            .AddSingleton<ProviderProbe>()
            .AddSingleton<ProviderClientCache>()

            // Router, prices and usage
            .AddSingleton(RoutingConfig.Parse(config.Root, config.DisplayPath))
            .AddSingleton(sp => new UsageStore(Path.Combine(dataDirectory, UsageStore.FileName)))
            .AddSingleton(sp => PriceTable.Create(
                sp.GetRequiredService<RoutingConfig>().Pricing,
                sp.GetRequiredService<PluginCatalog>().Plugins.SelectMany(p => p.Plugin.Prices.Select(price => (p.Name, price)))))
            .AddSingleton(sp => new RouterFactory(
                sp.GetRequiredService<ProviderClientCache>(),
                sp.GetRequiredService<RoutingConfig>(),
                sp.GetRequiredService<PriceTable>(),
                sp.GetRequiredService<UsageStore>(),
                sp.GetRequiredService<TimeProvider>()))

            // Front ends: the agent and the gateway, both on the router
            .AddSingleton<IChatClientProvider, RouterChatClientProvider>()
            .AddSingleton<IGatewayClientFactory>(sp => new RouterClientFactory(sp.GetRequiredService<RouterFactory>()))
            .AddSingleton<IProviderProbe, PluginProviderProbe>()
            .AddSingleton(sp => new SessionStore(Path.Combine(dataDirectory, SessionStore.FileName), sp.GetRequiredService<TimeProvider>()))
            .AddSingleton<IInterruptSignal, ConsoleInterruptSignal>()
            .AddSingleton(_ => TerminalConsoles.Stdout())
            .AddKeyedSingleton(TerminalConsoles.PromptKey, (_, _) => TerminalConsoles.Stderr());

        overrides?.Invoke(builder.Services);
        var host = builder.Build();

        // Resolved now, not from inside a log call: building it loads the plugins, which log.
        redaction.Redact = host.Services.GetRequiredService<SecretRedactor>().Redact;
        foreach (var warning in envWarnings)
        {
            streams.Error.WriteLine($"warning: {warning}");
        }

        return host;
    }
}
