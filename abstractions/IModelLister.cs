namespace Ally.Abstractions;

/// <summary>Represents a provider client that can list the models its API serves.</summary>
/// <remarks>Chat clients return it from <c>IChatClient.GetService(typeof(IModelLister))</c>.</remarks>
public interface IModelLister
{
    /// <summary>Lists the models the provider serves, as its API reports them.</summary>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    /// <returns>The models, in the provider's order.</returns>
    /// <exception cref="ProviderException">The provider could not be reached or refused the request.</exception>
    Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default);
}
