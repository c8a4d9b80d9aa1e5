namespace Ally.Host.Plugins;

/// <summary>What loading the plugins folder produced: the plugins, in a deterministic order, and the warnings.</summary>
internal sealed record PluginCatalog(string Directory, IReadOnlyList<LoadedPlugin> Plugins, IReadOnlyList<PluginWarning> Warnings)
{
    public static PluginCatalog Empty(string directory) => new(directory, [], []);
}
