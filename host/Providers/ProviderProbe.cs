using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Routing;

namespace Ally.Host.Providers;

/// <summary>Asks providers what they serve and whether they answer: model listing and the cheap health check.</summary>
/// <remarks>
/// The health check is the model listing, as LiteLLM and Bifrost do it: it needs the key, reaches the real endpoint,
/// and costs nothing. So both are one call, <see cref="ProbeAsync"/>, which <c>ally models</c>, <c>ally health</c>
/// and the gateway's <c>/v1/models</c> and <c>/api/providers/health</c> share. Every check runs under its own short
/// timeout. Messages may quote a provider or a plugin: redact them before they leave the process.
/// </remarks>
internal sealed class ProviderProbe
{
    private readonly ProviderRegistry _registry;
    private readonly TimeProvider _time;

    public ProviderProbe(ProviderRegistry registry, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(time);
        _registry = registry;
        _time = time;
    }

    /// <summary>Lists a provider's models from its API, or from the plugin's known list with a note when that fails.</summary>
    public async Task<ModelListing> ListModelsAsync(ProviderEntry entry, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        (await ProbeAsync(entry, timeout, cancellationToken)).Listing;

    /// <summary>Checks one provider.</summary>
    public async Task<ProviderHealth> CheckAsync(ProviderEntry entry, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        (await ProbeAsync(entry, timeout, cancellationToken)).Health;

    /// <summary>
    /// Checks, concurrently, every provider whose keys are set; a local server that needs no key only when it is
    /// configured (<see cref="ProviderRegistry.IsConfigured"/>), since otherwise every one of them that is not running
    /// would show as down.
    /// </summary>
    public async Task<IReadOnlyList<ProviderHealth>> CheckAllAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var entries = _registry.Entries
            .Where(e => _registry.GetStatus(e).State != ProviderStatus.MissingEnv)
            .Where(_registry.IsWorthChecking)
            .ToList();
        return await Task.WhenAll(entries.Select(e => CheckAsync(e, timeout, cancellationToken)));
    }

    /// <summary>Lists a provider's models, timed: the listing and the health check in one call.</summary>
    /// <remarks>Never throws for a provider's failure; only the caller's cancellation propagates.</remarks>
    public async Task<ProviderProbeResult> ProbeAsync(ProviderEntry entry, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var status = _registry.GetStatus(entry);
        if (!status.IsReady)
        {
            return Failed(entry, ProviderHealth.NotReady, null, null, status.Message, $"not ready: {status.Message}");
        }

        var started = _time.GetTimestamp();
        try
        {
            using var client = _registry.CreateClient(entry.Name);
            if (client.GetService(typeof(IModelLister)) is not IModelLister lister)
            {
                const string NoLister = "the provider cannot list its models; showing the known list";
                return Failed(entry, ProviderHealth.Unknown, null, null, "the provider offers no cheap check", NoLister);
            }

            using var timeoutSource = new CancellationTokenSource(timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
            var models = await lister.ListModelsAsync(linked.Token);
            return new ProviderProbeResult(
                new ModelListing(entry.Name, "api", null, models),
                new ProviderHealth(entry.Name, ProviderHealth.Up, Elapsed(started), null, null));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(
                entry,
                ProviderHealth.Down,
                Elapsed(started),
                ErrorKindNames.Of(ProviderErrorKind.Timeout),
                $"no answer within {timeout.TotalSeconds:0.###}s",
                $"listing timed out after {timeout.TotalSeconds:0.###}s; showing the known list");
        }
        catch (ProviderException ex)
        {
            var kind = ErrorKindNames.Of(ex.Kind);
            return Failed(entry, ProviderHealth.Down, Elapsed(started), kind, ex.Message, $"listing failed ({kind}: {ex.Message}); showing the known list");
        }
        catch (ConfigException ex)
        {
            return Failed(entry, ProviderHealth.NotReady, null, null, ex.Message, ex.Message);
        }
#pragma warning disable CA1031 // a plugin's failure is a health result, not a crash
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            var message = $"{ex.GetType().Name}: {ex.Message}";
            return Failed(entry, ProviderHealth.Down, Elapsed(started), "unknown", message, $"listing failed ({message}); showing the known list");
        }
    }

    /// <summary>Gets the plugin's known models, with the configured default model first when the plugin does not list it.</summary>
    public IReadOnlyList<ProviderModel> KnownModels(ProviderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var models = new List<string>();
        try
        {
            models.AddRange(entry.Plugin.KnownModels ?? []);
            if (_registry.DefaultModel(entry) is { } defaultModel && !models.Contains(defaultModel, StringComparer.Ordinal))
            {
                models.Insert(0, defaultModel);
            }
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return [.. models.Select(id => new ProviderModel(id))];
    }

    private ProviderProbeResult Failed(ProviderEntry entry, string status, double? latencyMs, string? errorKind, string? message, string note) =>
        new(new ModelListing(entry.Name, "known", note, KnownModels(entry)), new ProviderHealth(entry.Name, status, latencyMs, errorKind, message));

    private double Elapsed(long started) => Math.Round(_time.GetElapsedTime(started).TotalMilliseconds, 1);
}
