using Ally.Abstractions;
using Ally.Host.Providers;
using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>
/// Probes candidate settings with the provider's own client: its model list when it has one (free), else a
/// five-token answer. It goes around <see cref="IChatClientProvider"/> on purpose: the settings are not saved yet,
/// so neither the registry nor the router knows them.
/// </summary>
internal sealed class PluginProviderProbe : IProviderProbe
{
    public async Task<int?> ProbeAsync(ProviderEntry entry, ProviderSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var validation = entry.Plugin.ValidateConfig(settings);
        if (!validation.IsValid)
        {
            throw new ProviderException(ProviderErrorKind.InvalidRequest, validation.Error ?? "the settings are not valid.", entry.Name);
        }

        using var client = entry.Plugin.CreateClient(settings);
        if (client.GetService(typeof(IModelLister)) is IModelLister lister)
        {
            return (await lister.ListModelsAsync(cancellationToken)).Count;
        }

        await client.GetResponseAsync("Reply with: ok", new ChatOptions { MaxOutputTokens = 5 }, cancellationToken);
        return null;
    }
}
