using Ally.Host.Providers;
using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>Creates plain provider clients from the registry, with no routing.</summary>
internal sealed class RegistryChatClientProvider : IChatClientProvider
{
    private readonly ProviderRegistry _registry;

    public RegistryChatClientProvider(ProviderRegistry registry)
    {
        _registry = registry;
    }

    public IChatClient Create(ChatTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return _registry.CreateClient(target.Provider, target.Model, target.Temperature);
    }
}
