using Ally.Host.Pricing;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;

namespace Ally.Host.Routing;

/// <summary>Everything needed to send one call to one candidate, worked out before the first attempt.</summary>
internal sealed record RoutePlan(
    RouteCandidate Candidate,
    IChatClient Client,
    string? Model,
    PriceEntry? Price,
    IReadOnlyList<ChatMessage> Messages,
    ChatOptions Options,
    ProviderRouteOptions ProviderOptions,
    BudgetReservation? Reservation)
{
    public string Provider => Candidate.Provider;

    public string ConfigPrefix => $"providers.{Candidate.Provider}";
}
