using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>The one way the gateway obtains chat clients: in <c>ally serve</c>, the router (<see cref="RouterClientFactory"/>).</summary>
/// <remarks>
/// Implementations are called concurrently and may return a shared, thread-safe client. The gateway always sets
/// <see cref="ChatOptions.ModelId"/> to <paramref name="model"/> too, so a client cached per provider serves every model.
/// <paramref name="session"/> names the client key the request came with (<c>key1</c>…, or <c>local</c>), never the
/// key itself: the router's session, which usage records carry and <c>budget.session_usd</c> caps.
/// A provider that cannot be used throws <see cref="Configuration.ConfigException"/> (answered with 400) or
/// <see cref="Abstractions.ProviderException"/>.
/// </remarks>
internal interface IGatewayClientFactory
{
    IChatClient Create(string provider, string? model, string session);
}
