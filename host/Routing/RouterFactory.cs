using Ally.Host.Pricing;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;

namespace Ally.Host.Routing;

/// <summary>
/// Creates the router every front end talks to (the agent, <c>ally -p</c>, the gateway): one shared state for
/// cooldowns, latency and rate limits, one price table, one usage store and one budget per process.
/// </summary>
internal sealed class RouterFactory : IDisposable
{
    private readonly IProviderClientSource _clients;
    private readonly RouterState _state;
    private readonly PriceTable _prices;
    private readonly UsageStore? _usage;
    private readonly BudgetGuard? _budget;

    public RouterFactory(IProviderClientSource clients, RoutingConfig config, PriceTable prices, UsageStore? usage, TimeProvider timeProvider)
    {
        _clients = clients;
        _state = new RouterState(config.WithCanonicalNames(clients.CanonicalName), timeProvider);
        _prices = prices;
        _usage = usage;
        _budget = config.Budget.IsLimited ? new BudgetGuard(config.Budget, _usage, timeProvider) : null;
        if (_usage is { } store)
        {
            // Cooldowns outlive the process: a provider that answered 429 to one `ally -p` is skipped by the next.
            foreach (var cooldown in store.LoadCooldowns(timeProvider.GetUtcNow()))
            {
                _state.Cooldowns.Restore(cooldown);
            }

            _state.Cooldowns.Entered += store.SaveCooldown;
            _state.Cooldowns.Cleared += store.DeleteCooldown;
        }
    }

    public RouterState State => _state;

    public PriceTable Prices => _prices;

    public IReadOnlyList<CooldownInfo> Cooldowns => _state.Cooldowns.Snapshot();

    /// <summary>Creates a router whose first choice is <paramref name="provider"/>/<paramref name="model"/>, falling back as config.json says.</summary>
    public IChatClient Create(string provider, string? model, string? role = null, string? sessionId = null) =>
        new RouterChatClient(_clients, new RouteCandidate(provider, model), _state, _prices, _usage, _budget, role, sessionId);

    public void Dispose()
    {
        _budget?.Dispose();
        _state.Dispose();
    }
}
