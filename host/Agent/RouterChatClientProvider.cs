using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>Gives the agent routed clients: fallbacks, retries, cooldowns, budgets, usage records and cost.</summary>
internal sealed class RouterChatClientProvider : IChatClientProvider
{
    private readonly RouterFactory _routers;

    public RouterChatClientProvider(RouterFactory routers)
    {
        _routers = routers;
    }

    public IChatClient Create(ChatTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return _routers.Create(target.Provider, target.Model, target.Role, target.SessionId);
    }
}
