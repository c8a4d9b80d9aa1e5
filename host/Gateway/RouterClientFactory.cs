using System.Collections.Concurrent;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>
/// Sends every gateway call through the router (fallbacks, retries, cooldowns, budgets, usage records and cost),
/// with the role <c>gateway</c>. One router per provider and client key, reused for every request: the gateway names
/// the model in <see cref="ChatOptions.ModelId"/>, which the router takes as its first choice, so a router per model
/// would only let clients grow the cache with made-up model names; the client key's name is the router's session, so
/// requests carry no per-call <c>ally.session_id</c> for the router to strip from the options again.
/// </summary>
internal sealed class RouterClientFactory : IGatewayClientFactory
{
    public const string Role = "gateway";

    private readonly RouterFactory _routers;

    // Bounded: the providers times the configured client keys (plus "local").
    private readonly ConcurrentDictionary<(string Provider, string Session), IChatClient> _cache = new();

    public RouterClientFactory(RouterFactory routers)
    {
        ArgumentNullException.ThrowIfNull(routers);
        _routers = routers;
    }

    public IChatClient Create(string provider, string? model, string session)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ArgumentException.ThrowIfNullOrWhiteSpace(session);

        // Routers hold no resources of their own (the state, price table and store are the factory's), so one that
        // loses a race to the cache is simply dropped.
        var key = (provider, session);
        return _cache.TryGetValue(key, out var router)
            ? router
            : _cache.GetOrAdd(key, static (k, routers) => routers.Create(k.Provider, model: null, role: Role, sessionId: k.Session), _routers);
    }
}
