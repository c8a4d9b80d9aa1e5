using Ally.Host.Routing;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class CandidateOrdererTests
{
    private static readonly RouteCandidate[] Candidates = [new("a", "m1"), new("b", "m1"), new("c", "m1")];

    [Fact]
    public void Order_Priority_KeepsConfigOrder()
    {
        // Given
        using var state = new RouterState(new RoutingConfig());

        // When
        var order = CandidateOrderer.Order(Candidates, new RouterOptions(), state, streaming: false, _ => null);

        // Then
        Assert.Equal(["a", "b", "c"], order.Select(c => c.Provider));
    }

    [Fact]
    public void Order_RoundRobin_StartsOneFurtherEachCall()
    {
        // Given
        using var state = new RouterState(new RoutingConfig());
        var options = new RouterOptions { Strategy = RouterStrategy.RoundRobin };

        // When
        var firsts = Enumerable.Range(0, 4).Select(_ => CandidateOrderer.Order(Candidates, options, state, false, _ => null)[0].Provider).ToList();

        // Then
        Assert.Equal(["a", "b", "c", "a"], firsts);
        Assert.Equal(["b", "c", "a"], CandidateOrderer.Order(Candidates, options, state, false, _ => null).Select(c => c.Provider));
    }

    [Fact]
    public void Order_LowestLatency_FastestFirstAndUnmeasuredExplored()
    {
        // Given: b is fast, a is slow, c was never measured
        using var state = new RouterState(new RoutingConfig());
        state.Latency.Record("a/m1", TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
        state.Latency.Record("b/m1", TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        var options = new RouterOptions { Strategy = RouterStrategy.LowestLatency };

        // When
        var streamed = CandidateOrderer.Order(Candidates, options, state, streaming: true, _ => null);
        var plain = CandidateOrderer.Order(Candidates, options, state, streaming: false, _ => null);

        // Then: streams rank by time to first token, plain calls by total latency
        Assert.Equal(["c", "b", "a"], streamed.Select(c => c.Provider));
        Assert.Equal(["c", "a", "b"], plain.Select(c => c.Provider));
    }

    [Fact]
    public void Order_LowestLatency_MovingAverageFollowsASlowdown()
    {
        // Given
        var latency = new LatencyTracker();
        latency.Record("a", null, TimeSpan.FromMilliseconds(100));

        // When
        latency.Record("a", null, TimeSpan.FromMilliseconds(1100));

        // Then: 100 + 0.3 × (1100 − 100)
        Assert.Equal(400, latency.Score("a", streaming: false)!.Value, 6);
    }

    [Fact]
    public void Order_LowestCost_CheapestFirstUnknownLast()
    {
        // Given
        using var state = new RouterState(new RoutingConfig());
        var costs = new Dictionary<string, decimal?> { ["a"] = null, ["b"] = 0.02m, ["c"] = 0.01m };

        // When
        var order = CandidateOrderer.Order(Candidates, new RouterOptions { Strategy = RouterStrategy.LowestCost }, state, false, c => costs[c.Provider]);

        // Then
        Assert.Equal(["c", "b", "a"], order.Select(c => c.Provider));
    }

    [Fact]
    public void Order_Weighted_DrawsFirstPlaceInProportionToWeight()
    {
        // Given: a weighs 3, b weighs 1, c weighs 0 (never first)
        using var state = new RouterState(new RoutingConfig(), random: new Random(42));
        var options = new RouterOptions
        {
            Strategy = RouterStrategy.Weighted,
            Weights = new Dictionary<string, int> { ["a"] = 3, ["b"] = 1, ["c"] = 0 },
        };

        // When
        var orders = Enumerable.Range(0, 4000).Select(_ => CandidateOrderer.Order(Candidates, options, state, false, _ => null)).ToList();

        // Then
        var aFirst = orders.Count(o => o[0].Provider == "a") / 4000.0;
        Assert.InRange(aFirst, 0.70, 0.80);
        Assert.All(orders, o => Assert.Equal("c", o[2].Provider));
    }

    [Fact]
    public async Task GetResponse_LowestCostStrategy_SendsToTheCheapestProvider()
    {
        // Given: c/m1 is the cheapest in the test price table
        var source = new ScriptedProviderSource(new("a"), new("b"), new("c"));
        using var router = Create(source, options: FastOptions with { Strategy = RouterStrategy.LowestCost });

        // When
        var response = await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("c", response.AdditionalProperties![RouterAttempts.ProviderKey]);
    }

    [Fact]
    public async Task GetResponse_LowestCostStrategyCheapestCoolingDown_SendsToTheCheapestHealthyProvider()
    {
        // Given: c/m1 is the cheapest, then a/m1, then b/m1; c answered 429 and cools down
        var c = new ScriptedProvider("c");
        c.Failing(c.Error(Ally.Abstractions.ProviderErrorKind.RateLimit, TimeSpan.FromMinutes(5), 429));
        var source = new ScriptedProviderSource(new("a"), new("b"), c);
        using var router = Create(source, options: FastOptions with { Strategy = RouterStrategy.LowestCost });
        await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // When
        var response = await AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(1, c.Calls);
        Assert.Equal(["cooldown", null], Attempts(response).Select(x => x.Error));
    }

    [Fact]
    public async Task GetResponse_RoundRobinStrategy_SpreadsCallsOverProviders()
    {
        // Given
        var source = new ScriptedProviderSource(new("a"), new("b"), new("c"));
        using var router = Create(source, options: FastOptions with { Strategy = RouterStrategy.RoundRobin });

        // When
        for (var i = 0; i < 6; i++)
        {
            await AskAsync(router, streamed: i % 2 == 0, cancellationToken: TestContext.Current.CancellationToken);
        }

        // Then
        Assert.Equal([2, 2, 2], new[] { "a", "b", "c" }.Select(p => source[p].Calls));
    }

    [Fact]
    public async Task GetResponse_PerRoleFallbacks_UseTheRolesChain()
    {
        // Given: coder falls back to c only
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(Ally.Abstractions.ProviderErrorKind.Authentication));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        var config = new RoutingConfig
        {
            Router = FastOptions,
            RoleFallbacks = new Dictionary<string, IReadOnlyList<RouteCandidate>>
            {
                ["coder"] = [new("c", null)],
                ["default"] = [new("b", null)],
            },
        };
        using var state = new RouterState(config);
        using var router = new RouterChatClient(source, new RouteCandidate("a", null), state, Prices);
        var options = new Microsoft.Extensions.AI.ChatOptions { AdditionalProperties = new() { ["ally.role"] = "coder" } };

        // When
        var response = await AskAsync(router, streamed: false, options, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("c", response.AdditionalProperties![RouterAttempts.ProviderKey]);
    }
}
