using System.Collections.Concurrent;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>
/// Sends every gateway call through the router (fallbacks, retries, cooldowns, budgets, usage records and cost),
/// with the role <c>gateway</c>. One router per provider, reused for every request: the gateway names the model in
/// <see cref="ChatOptions.ModelId"/>, which the router takes as its first choice, so a router per model would only
/// let clients grow the cache with made-up model names.
/// </summary>
internal sealed class RouterClientFactory : IGatewayClientFactory
{
    public const string Role = "gateway";

    private readonly RouterFactory _routers;
    private readonly ConcurrentDictionary<string, IChatClient> _cache = new(StringComparer.Ordinal);

    public RouterClientFactory(RouterFactory routers)
    {
        ArgumentNullException.ThrowIfNull(routers);
        _routers = routers;
    }

    public IChatClient Create(string provider, string? model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);

        // Routers hold no resources of their own (the state, price table and store are the factory's), so one that
        // loses a race to the cache is simply dropped.
        return _cache.TryGetValue(provider, out var router)
            ? router
            : _cache.GetOrAdd(provider, name => _routers.Create(name, model: null, role: Role));
    }
}
