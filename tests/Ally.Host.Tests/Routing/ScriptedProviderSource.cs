using Ally.Host.Configuration;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Routing;

/// <summary>The provider registry, as the router sees it, over scripted providers.</summary>
internal sealed class ScriptedProviderSource : IProviderClientSource
{
    private readonly Dictionary<string, ScriptedProvider> _providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.OrdinalIgnoreCase);

    public ScriptedProviderSource(params ScriptedProvider[] providers)
    {
        foreach (var provider in providers)
        {
            _providers[provider.Name] = provider;
        }
    }

    public ScriptedProvider this[string name] => _providers[name];

    /// <summary>Lets <paramref name="alias"/> name <paramref name="provider"/>, as the registry lets <c>gemini</c> name <c>google</c>.</summary>
    public ScriptedProviderSource WithAlias(string alias, string provider)
    {
        _aliases[alias] = provider;
        return this;
    }

    public string CanonicalName(string provider) => _aliases.TryGetValue(provider, out var canonical) ? canonical : provider;

    public IChatClient GetClient(string provider, string? model) =>
        _providers.TryGetValue(CanonicalName(provider), out var scripted)
            ? scripted.Client
            : throw new ConfigException($"config.json: provider \"{provider}\" is not configured.");
}
