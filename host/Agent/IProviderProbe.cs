using Ally.Abstractions;
using Ally.Host.Providers;

namespace Ally.Host.Agent;

/// <summary>Checks that settings the user has just typed work, with one cheap call, before they are saved.</summary>
internal interface IProviderProbe
{
    /// <summary>Returns the number of models listed, or null when the check was a short answer instead.</summary>
    /// <exception cref="ProviderException">The provider refused or could not be reached.</exception>
    Task<int?> ProbeAsync(ProviderEntry entry, ProviderSettings settings, CancellationToken cancellationToken = default);
}
