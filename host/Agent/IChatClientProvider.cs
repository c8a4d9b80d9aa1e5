using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>
/// The one way the agent gets chat clients. Today a thin wrapper over the provider registry; the router replaces it
/// with a client that adds fallbacks, retries, usage and cost, without the agent changing.
/// </summary>
internal interface IChatClientProvider
{
    /// <summary>Creates a client for <paramref name="target"/>; the caller disposes it.</summary>
    /// <exception cref="Configuration.ConfigException">The provider is not installed or not ready.</exception>
    IChatClient Create(ChatTarget target);
}
