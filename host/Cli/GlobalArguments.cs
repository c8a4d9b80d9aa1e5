namespace Ally.Host.Cli;

/// <summary>The options every command shares: where configuration and plugins are, and how much to say.</summary>
internal sealed record GlobalArguments(string? ConfigPath, string? PluginsPath, bool Verbose);
