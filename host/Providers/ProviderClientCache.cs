using System.Collections.Concurrent;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers;

/// <summary>
/// The router's source of provider clients: one client per provider and model, created on first use through the
/// registry and kept for the life of the process (connections are pooled underneath), disposed with it.
/// </summary>
internal sealed class ProviderClientCache : IProviderClientSource, IDisposable
{
    private readonly ProviderRegistry _registry;
    private readonly ConcurrentDictionary<(string Provider, string? Model), Lazy<IChatClient>> _clients = new();

    public ProviderClientCache(ProviderRegistry registry)
    {
        _registry = registry;
    }

    public IChatClient GetClient(string provider, string? model)
    {
        var key = (provider, model);
        var lazy = _clients.GetOrAdd(key, k => new Lazy<IChatClient>(() => _registry.CreateClient(k.Provider, k.Model)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed creation (missing key, say) must not be cached: the user may fix it and retry in the session.
            _clients.TryRemove(new KeyValuePair<(string, string?), Lazy<IChatClient>>(key, lazy));
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var lazy in _clients.Values.Where(l => l.IsValueCreated))
        {
            lazy.Value.Dispose();
        }

        _clients.Clear();
    }
}
