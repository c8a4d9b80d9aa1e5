using System.Collections.Concurrent;
using Ally.Host.Providers;
using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>
/// Creates clients straight from the <see cref="ProviderRegistry"/>, one per provider, reused for every request
/// (settings resolution and validation are not per-request work). A provider registered again at run time gets a
/// new client, because its <see cref="ProviderEntry"/> changes.
/// </summary>
internal sealed class RegistryClientFactory : IGatewayClientFactory, IDisposable
{
    private readonly ProviderRegistry _registry;
    private readonly ConcurrentDictionary<string, CachedClient> _clients = new(StringComparer.Ordinal);

    public RegistryClientFactory(ProviderRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
    }

    public IChatClient Create(string provider, string? model)
    {
        var entry = _registry.Get(provider);
        if (_clients.TryGetValue(entry.Name, out var cached) && ReferenceEquals(cached.Entry, entry))
        {
            return cached.Client;
        }

        // Clients replaced here may still serve requests in flight; they hold no resources of their own (the
        // connection pool is shared), so they are left to the garbage collector rather than disposed under a caller.
        var client = _registry.CreateClient(entry.Name, model);
        _clients[entry.Name] = new CachedClient(entry, client);
        return client;
    }

    public void Dispose()
    {
        foreach (var cached in _clients.Values)
        {
            cached.Client.Dispose();
        }

        _clients.Clear();
    }

    private sealed record CachedClient(ProviderEntry Entry, IChatClient Client);
}
