using Ally.Host.Gateway;
using Ally.Host.Providers;
using Microsoft.Extensions.AI;

namespace Ally.Bench.Gateway;

/// <summary>The gateway without the router (<c>--no-router</c>): the provider's client straight from the cache, to measure what the router adds.</summary>
internal sealed class DirectClientFactory(ProviderClientCache clients) : IGatewayClientFactory
{
    public IChatClient Create(string provider, string? model, string session) => clients.GetClient(provider, null);
}
