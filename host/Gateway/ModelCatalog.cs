using System.Collections.Concurrent;
using Ally.Abstractions;
using Ally.Host.Cli;
using Ally.Host.Configuration;
using Ally.Host.Providers;

namespace Ally.Host.Gateway;

/// <summary>
/// Lists providers' models through their <see cref="IModelLister"/> with a short timeout, concurrently, falling back
/// to the plugin's known models; results are kept for a minute so that clients polling <c>/v1/models</c> do not
/// hammer every provider. Also runs the health checks, which are the same call, timed and never cached.
/// </summary>
internal sealed class ModelCatalog
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(1);

    private readonly ProviderRegistry _registry;
    private readonly IGatewayClientFactory _clients;
    private readonly GatewayState _state;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ConcurrentDictionary<string, CachedModels> _cache = new(StringComparer.Ordinal);

    public ModelCatalog(ProviderRegistry registry, IGatewayClientFactory clients, GatewayState state, SecretRedactor redactor, TimeProvider time, GatewayOptions options)
    {
        _registry = registry;
        _clients = clients;
        _state = state;
        _redactor = redactor;
        _time = time;
        _timeout = options.ModelsTimeout;
    }

    /// <summary>Lists the models of every ready provider, concurrently, in name order.</summary>
    public async Task<IReadOnlyList<ProviderModels>> ListReadyAsync(CancellationToken cancellationToken = default)
    {
        var ready = _registry.Entries.Where(e => _registry.GetStatus(e).IsReady).ToList();
        return await Task.WhenAll(ready.Select(e => ListAsync(e, cancellationToken)));
    }

    public async Task<ProviderModels> ListAsync(ProviderEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(entry.Name, out var cached) && ReferenceEquals(cached.Entry, entry) && now - cached.At < CacheLifetime)
        {
            return cached.Models;
        }

        var (models, _) = await QueryAsync(entry, cancellationToken);
        _cache[entry.Name] = new CachedModels(entry, now, models);
        return models;
    }

    /// <summary>Checks every provider concurrently; providers that are not ready are reported without a call.</summary>
    public async Task<IReadOnlyList<ProviderHealth>> CheckAllAsync(CancellationToken cancellationToken = default) =>
        await Task.WhenAll(_registry.Entries.Select(e => CheckAsync(e, cancellationToken)));

    public async Task<ProviderHealth> CheckAsync(ProviderEntry entry, CancellationToken cancellationToken = default)
    {
        var status = _registry.GetStatus(entry);
        if (!status.IsReady)
        {
            return new ProviderHealth(entry.Name, "not_ready", null, null, _redactor.Redact(status.Message));
        }

        var (models, health) = await QueryAsync(entry, cancellationToken);
        if (models.Source == "api")
        {
            _cache[entry.Name] = new CachedModels(entry, _time.GetUtcNow(), models);
        }

        return health;
    }

    private async Task<(ProviderModels Models, ProviderHealth Health)> QueryAsync(ProviderEntry entry, CancellationToken cancellationToken)
    {
        if (_state.IsSelf(SafeBaseUrl(entry)))
        {
            const string Self = "its base URL is this gateway; not queried";
            return (Known(entry, Self), new ProviderHealth(entry.Name, "unchecked", null, null, Self));
        }

        IModelLister? lister;
        try
        {
            lister = _clients.Create(entry.Name, null).GetService(typeof(IModelLister)) as IModelLister;
        }
        catch (Exception exception) when (exception is ConfigException or ProviderException)
        {
            var message = _redactor.Redact(exception.Message);
            return (Known(entry, message), new ProviderHealth(entry.Name, "not_ready", null, null, message));
        }

        if (lister is null)
        {
            const string NoLister = "the provider cannot list its models";
            return (Known(entry, NoLister), new ProviderHealth(entry.Name, "unchecked", null, null, NoLister));
        }

        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var start = _time.GetTimestamp();
        try
        {
            var listed = await lister.ListModelsAsync(linked.Token);
            var latency = Milliseconds(start);
            var models = new ProviderModels(entry.Name, [.. listed.Select(m => m.Id)], "api", null);
            return (models, new ProviderHealth(entry.Name, "ok", latency, null, null));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var message = $"no answer within {_timeout.TotalSeconds:0.###} s";
            return (Known(entry, message), new ProviderHealth(entry.Name, "timeout", Milliseconds(start), Routing.ErrorKindNames.Of(ProviderErrorKind.Timeout), message));
        }
        catch (ProviderException exception)
        {
            var message = _redactor.Redact(exception.Message);
            return (Known(entry, message), new ProviderHealth(entry.Name, "error", Milliseconds(start), Routing.ErrorKindNames.Of(exception.Kind), message));
        }
#pragma warning disable CA1031 // a plugin's lister must not break the listing of the others
        catch (Exception exception) when (exception is not OperationCanceledException)
#pragma warning restore CA1031
        {
            var message = _redactor.Redact($"{exception.GetType().Name}: {exception.Message}");
            return (Known(entry, message), new ProviderHealth(entry.Name, "error", Milliseconds(start), "unknown", message));
        }
    }

    private double Milliseconds(long start) => Math.Round(_time.GetElapsedTime(start).TotalMilliseconds, 2);

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

    private ProviderModels Known(ProviderEntry entry, string error)
    {
        var models = new List<string>();
        try
        {
            models.AddRange(entry.Plugin.KnownModels ?? []);
            if ((_registry.ConfigFor(entry.Name)?.DefaultModel ?? entry.Plugin.DefaultModel) is { } defaultModel && !models.Contains(defaultModel, StringComparer.Ordinal))
            {
                models.Insert(0, defaultModel);
            }
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return new ProviderModels(entry.Name, models, "known", error);
    }

    private sealed record CachedModels(ProviderEntry Entry, DateTimeOffset At, ProviderModels Models);
}
