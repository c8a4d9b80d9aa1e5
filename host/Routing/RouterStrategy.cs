namespace Ally.Host.Routing;

/// <summary>How the router orders the healthy candidates of a call (<c>router.strategy</c>).</summary>
internal enum RouterStrategy
{
    /// <summary>The order of config.json: the selected provider, then <c>fallbacks</c>. The default.</summary>
    Priority,

    /// <summary>Each call starts one candidate further down the list.</summary>
    RoundRobin,

    /// <summary>Fastest first, by a moving average of time to first token and total latency from live traffic.</summary>
    LowestLatency,

    /// <summary>Cheapest first, by the price table's estimate for the call; unknown prices last.</summary>
    LowestCost,

    /// <summary>A random order drawn by <c>router.weights</c>.</summary>
    Weighted,
}
