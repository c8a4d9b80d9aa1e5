using Ally.Abstractions;

namespace Ally.Host.Plugins;

/// <summary>A provider plugin instance and the file it came from.</summary>
internal sealed record LoadedPlugin(IProviderPlugin Plugin, string Name, string Path, string DisplayPath);
