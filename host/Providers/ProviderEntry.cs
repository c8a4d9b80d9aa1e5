using Ally.Abstractions;

namespace Ally.Host.Providers;

/// <summary>One installed provider: the plugin that serves it and where it came from.</summary>
internal sealed record ProviderEntry(string Name, IProviderPlugin Plugin, ProviderSource Source, string? Path)
{
    /// <summary>Gets a value indicating whether this plugin or config entry replaced a built-in of the same name.</summary>
    public bool OverridesBuiltIn { get; init; }

    /// <summary>Gets the protocol definition for built-ins and config-defined providers; null for plugins.</summary>
    public ProviderDefinition? Definition => (Plugin as ProtocolProviderPlugin)?.Definition;

    public string SourceName => Source switch
    {
        ProviderSource.BuiltIn => "built-in",
        ProviderSource.Plugin => "plugin",
        _ => "config",
    };
}
