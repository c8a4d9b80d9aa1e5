using System.Collections.Concurrent;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers;

/// <summary>
/// The router's source of provider clients: one client per provider and model, created on first use through the
/// registry and kept for the life of the process (connections are pooled underneath), disposed with it. A provider
/// registered again at run time (<c>POST /api/providers/register</c>) gets new clients, because its
/// <see cref="ProviderEntry"/> changes.
/// </summary>
internal sealed class ProviderClientCache : IProviderClientSource, IDisposable
{
    // The gateway passes on whatever model its clients name, so the cache is bounded: past this many clients a new
    // model gets a client for the call only (clients hold no resources of their own), and made-up model names cannot
    // grow the process without limit.
    private const int MaxCached = 256;

    private readonly ProviderRegistry _registry;
    private readonly ConcurrentDictionary<(string Provider, string? Model), CachedClient> _clients = new();

    public ProviderClientCache(ProviderRegistry registry)
    {
        _registry = registry;
    }

    public IChatClient GetClient(string provider, string? model)
    {
        var entry = _registry.Get(provider);
        var key = (provider, model);
        if (!_clients.TryGetValue(key, out var cached) || !ReferenceEquals(cached.Entry, entry))
        {
            // Clients replaced here may still serve calls in flight; they hold no resources of their own (the
            // connection pool is shared), so they are left to the garbage collector rather than disposed under a caller.
            cached = new CachedClient(entry, new Lazy<IChatClient>(() => _registry.CreateClient(entry.Name, model)));
            if (_clients.Count < MaxCached || _clients.ContainsKey(key))
            {
                cached = _clients.AddOrUpdate(key, cached, (_, existing) => ReferenceEquals(existing.Entry, entry) ? existing : cached);
            }
        }

        try
        {
            return cached.Client.Value;
        }
        catch
        {
            // A failed creation (missing key, say) must not be cached: the user may fix it and retry in the session.
            _clients.TryRemove(new KeyValuePair<(string, string?), CachedClient>(key, cached));
            throw;
        }
    }

    /// <summary>Gets how many clients are cached.</summary>
    public int Count => _clients.Count;

    public string CanonicalName(string provider) => _registry.Find(provider)?.Name ?? provider;

    public void Dispose()
    {
        foreach (var cached in _clients.Values.Where(c => c.Client.IsValueCreated))
        {
            cached.Client.Value.Dispose();
        }

        _clients.Clear();
    }

    private sealed record CachedClient(ProviderEntry Entry, Lazy<IChatClient> Client);
}
