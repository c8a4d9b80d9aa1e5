using Ally.Host.Configuration;
using Ally.Host.Providers;
using Ally.Host.Terminal;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Cli;

/// <summary>What a command's action gets: the composed services, the standard streams and the global options.</summary>
internal sealed class CommandContext
{
    public CommandContext(IServiceProvider services, StandardStreams streams, GlobalArguments global, bool json)
    {
        Services = services;
        Streams = streams;
        Global = global;
        Json = json;
        Registry = services.GetRequiredService<ProviderRegistry>();
        Redactor = services.GetRequiredService<SecretRedactor>();
    }

    public IServiceProvider Services { get; }

    public StandardStreams Streams { get; }

    public GlobalArguments Global { get; }

    public bool Json { get; }

    public ProviderRegistry Registry { get; }

    public SecretRedactor Redactor { get; }

    public AllyConfig Config => Registry.Config;

    /// <summary>Writes the start-up warnings to stderr, one line each.</summary>
    public void PrintWarnings()
    {
        foreach (var warning in Registry.Warnings)
        {
            Streams.Error.WriteLine($"warning: {Redactor.Redact(warning)}");
        }
    }
}
