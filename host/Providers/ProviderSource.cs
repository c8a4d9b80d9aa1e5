namespace Ally.Host.Providers;

/// <summary>Where a provider came from.</summary>
internal enum ProviderSource
{
    BuiltIn,
    Plugin,
    Config,
}
