using System.Collections.Concurrent;
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
    // Bounded by the providers configured or registered; saves building the name for every call.
    private static readonly ConcurrentDictionary<string, string> TimeoutKeys = new(StringComparer.Ordinal);

    public string Provider => Candidate.Provider;

    public string ConfigPrefix => $"providers.{Candidate.Provider}";

    /// <summary>Gets <c>providers.{name}.timeout_seconds</c>, the name a fired attempt timeout is reported by.</summary>
    public string TimeoutKey => TimeoutKeys.GetOrAdd(Candidate.Provider, static provider => $"providers.{provider}.timeout_seconds");
}
