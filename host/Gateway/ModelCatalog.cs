using System.Collections.Concurrent;
using Ally.Host.Configuration;
using Ally.Host.Providers;

namespace Ally.Host.Gateway;

/// <summary>
/// The gateway's view of <see cref="ProviderProbe"/>: listings are kept for a minute so that clients polling
/// <c>/v1/models</c> do not hammer every provider, health checks are never cached (but refresh the listing), a
/// provider whose base URL is this gateway is never called from inside itself, and every message is redacted.
/// </summary>
internal sealed class ModelCatalog
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(1);

    private readonly ProviderRegistry _registry;
    private readonly ProviderProbe _probe;
    private readonly GatewayState _state;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ConcurrentDictionary<string, CachedModels> _cache = new(StringComparer.Ordinal);

    public ModelCatalog(ProviderRegistry registry, ProviderProbe probe, GatewayState state, SecretRedactor redactor, TimeProvider time, GatewayOptions options)
    {
        _registry = registry;
        _probe = probe;
        _state = state;
        _redactor = redactor;
        _time = time;
        _timeout = options.ModelsTimeout;
    }

    /// <summary>Lists the models of every ready provider, concurrently, in name order.</summary>
    public async Task<IReadOnlyList<ModelListing>> ListReadyAsync(CancellationToken cancellationToken = default)
    {
        var ready = _registry.Entries.Where(e => _registry.GetStatus(e).IsReady).ToList();
        return await Task.WhenAll(ready.Select(e => ListAsync(e, cancellationToken)));
    }

    public async Task<ModelListing> ListAsync(ProviderEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(entry.Name, out var cached) && ReferenceEquals(cached.Entry, entry) && now - cached.At < CacheLifetime)
        {
            return cached.Models;
        }

        var listing = (await ProbeAsync(entry, cancellationToken)).Listing;
        _cache[entry.Name] = new CachedModels(entry, now, listing);
        return listing;
    }

    /// <summary>
    /// Checks every provider concurrently, as <c>ally health</c> does but listing the ones that are not ready too
    /// (without a call); local servers nobody configured are left out.
    /// </summary>
    public async Task<IReadOnlyList<ProviderHealth>> CheckAllAsync(CancellationToken cancellationToken = default) =>
        await Task.WhenAll(_registry.Entries.Where(_registry.IsWorthChecking).Select(e => CheckAsync(e, cancellationToken)));

    public async Task<ProviderHealth> CheckAsync(ProviderEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var result = await ProbeAsync(entry, cancellationToken);
        if (result.Listing.Source == "api")
        {
            _cache[entry.Name] = new CachedModels(entry, _time.GetUtcNow(), result.Listing);
        }

        return result.Health;
    }

    private async Task<ProviderProbeResult> ProbeAsync(ProviderEntry entry, CancellationToken cancellationToken)
    {
        if (_registry.GetStatus(entry).IsReady && _state.IsSelf(SafeBaseUrl(entry)))
        {
            const string Self = "its base URL is this gateway; not queried";
            return new ProviderProbeResult(
                new ModelListing(entry.Name, "known", Self, _probe.KnownModels(entry)),
                new ProviderHealth(entry.Name, ProviderHealth.Unknown, null, null, Self));
        }

        var result = await _probe.ProbeAsync(entry, _timeout, cancellationToken);
        return new ProviderProbeResult(
            result.Listing.Note is { } note ? result.Listing with { Note = _redactor.Redact(note) } : result.Listing,
            result.Health.Message is { } message ? result.Health with { Message = _redactor.Redact(message) } : result.Health);
    }

    private Uri? SafeBaseUrl(ProviderEntry entry)
    {
        try
        {
            return _registry.ResolveSettings(entry).BaseUrl;
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private sealed record CachedModels(ProviderEntry Entry, DateTimeOffset At, ModelListing Models);
}
