namespace Ally.Host.Routing;

/// <summary>Orders a call's candidates by <c>router.strategy</c>. Cooldowns are applied afterwards, while trying them.</summary>
internal static class CandidateOrderer
{
    /// <param name="candidates">The candidates in config order: the selected provider, then the fallbacks.</param>
    /// <param name="options">The router options (strategy and weights).</param>
    /// <param name="state">Live traffic: latencies, the round-robin counter, the random source.</param>
    /// <param name="streaming">Whether the call is streamed (lowest-latency then ranks by time to first token).</param>
    /// <param name="estimateCost">The estimated cost of the call at a candidate, or <see langword="null"/> when unknown.</param>
    public static IReadOnlyList<RouteCandidate> Order(
        IReadOnlyList<RouteCandidate> candidates,
        RouterOptions options,
        RouterState state,
        bool streaming,
        Func<RouteCandidate, decimal?> estimateCost)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count < 2)
        {
            return candidates;
        }

        switch (options.Strategy)
        {
            case RouterStrategy.RoundRobin:
                var start = (int)((uint)state.NextRoundRobin() % (uint)candidates.Count);
                return [.. candidates.Skip(start), .. candidates.Take(start)];

            case RouterStrategy.LowestLatency:
                // Never measured counts as fastest, so that every candidate gets measured; OrderBy is stable, so ties keep config order.
                return [.. candidates.OrderBy(c => state.Latency.Score(c.ToString(), streaming) ?? 0)];

            case RouterStrategy.LowestCost:
                return [.. candidates
                    .Select(c => (Candidate: c, Cost: estimateCost(c)))
                    .OrderBy(x => x.Cost is null)
                    .ThenBy(x => x.Cost ?? 0)
                    .Select(x => x.Candidate)];

            case RouterStrategy.Weighted:
                // Efraimidis–Spirakis: sorting by u^(1/w) draws an order in which each candidate comes first with probability w / Σw.
                return [.. candidates
                    .Select(c => (Candidate: c, Weight: options.Weights.TryGetValue(c.Provider, out var w) ? w : 1))
                    .Select(x => (x.Candidate, Key: x.Weight <= 0 ? -1 : Math.Pow(state.NextRandom(), 1.0 / x.Weight)))
                    .OrderByDescending(x => x.Key)
                    .Select(x => x.Candidate)];

            default:
                return candidates;
        }
    }
}
