using System.Diagnostics;
using Ally.Abstractions;
using Ally.Host.Cli;
using Ally.Host.Configuration;
using Ally.Host.Routing;

namespace Ally.Host.Providers;

/// <summary>Asks providers what they serve and whether they answer: model listing and the cheap health check.</summary>
/// <remarks>
/// The health check is the model listing, as LiteLLM and Bifrost do it: it needs the key, reaches the real endpoint,
/// and costs nothing. Every check runs concurrently under its own short timeout.
/// </remarks>
internal sealed class ProviderProbe
{
    private readonly ProviderRegistry _registry;
    private readonly TimeProvider _time;

    public ProviderProbe(ProviderRegistry registry, TimeProvider time)
    {
        _registry = registry;
        _time = time;
    }

    /// <summary>Lists a provider's models from its API, or from the plugin's known list with a note when that fails.</summary>
    public async Task<ModelListing> ListModelsAsync(ProviderEntry entry, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var known = SafeKnownModels(entry);
        var status = _registry.GetStatus(entry);
        if (!status.IsReady)
        {
            return new ModelListing(entry.Name, "known", $"not ready: {status.Message}", known);
        }

        try
        {
            using var client = _registry.CreateClient(entry.Name);
            if (client.GetService(typeof(IModelLister)) is not IModelLister lister)
            {
                return new ModelListing(entry.Name, "known", "the provider cannot list its models; showing the known list", known);
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            var models = await lister.ListModelsAsync(cts.Token);
            return new ModelListing(entry.Name, "api", null, models);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ModelListing(entry.Name, "known", $"listing timed out after {timeout.TotalSeconds:0}s; showing the known list", known);
        }
        catch (ProviderException ex)
        {
            return new ModelListing(entry.Name, "known", $"listing failed ({ErrorKindNames.Of(ex.Kind)}: {ex.Message}); showing the known list", known);
        }
        catch (ConfigException ex)
        {
            return new ModelListing(entry.Name, "known", ex.Message, known);
        }
    }

    /// <summary>Checks one provider.</summary>
    public async Task<ProviderHealth> CheckAsync(ProviderEntry entry, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var status = _registry.GetStatus(entry);
        if (!status.IsReady)
        {
            return new ProviderHealth(entry.Name, ProviderHealth.NotReady, null, null, status.Message);
        }

        var started = _time.GetTimestamp();
        try
        {
            using var client = _registry.CreateClient(entry.Name);
            if (client.GetService(typeof(IModelLister)) is not IModelLister lister)
            {
                return new ProviderHealth(entry.Name, ProviderHealth.Unknown, null, null, "the provider offers no cheap check");
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            await lister.ListModelsAsync(cts.Token);
            return new ProviderHealth(entry.Name, ProviderHealth.Up, Elapsed(started), null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProviderHealth(entry.Name, ProviderHealth.Down, Elapsed(started), "timeout", $"no answer within {timeout.TotalSeconds:0.#}s");
        }
        catch (ProviderException ex)
        {
            return new ProviderHealth(entry.Name, ProviderHealth.Down, Elapsed(started), ErrorKindNames.Of(ex.Kind), ex.Message);
        }
#pragma warning disable CA1031 // a plugin's failure is a health result, not a crash
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new ProviderHealth(entry.Name, ProviderHealth.Down, Elapsed(started), "unknown", ex.Message);
        }
    }

    /// <summary>Checks every provider whose keys are set, concurrently.</summary>
    public async Task<IReadOnlyList<ProviderHealth>> CheckAllAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var entries = _registry.Entries.Where(e => _registry.GetStatus(e).State != ProviderStatus.MissingEnv).ToList();
        return await Task.WhenAll(entries.Select(e => CheckAsync(e, timeout, cancellationToken)));
    }

    private double Elapsed(long started) => Math.Round(_time.GetElapsedTime(started).TotalMilliseconds, 1);

    private static IReadOnlyList<ProviderModel> SafeKnownModels(ProviderEntry entry)
    {
        try
        {
            return [.. (entry.Plugin.KnownModels ?? []).Select(id => new ProviderModel(id))];
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
    }
}
