using Ally.Host.Routing;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterRateLimitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_RpmLimitReachedAndWaitTooLong_MovesOnToTheNextCandidate(bool streamed)
    {
        // Given: one request a minute for a, and a one-second cap on waits
        var source = new ScriptedProviderSource(new("a"), new("b"));
        var providers = new Dictionary<string, ProviderRouteOptions> { ["a"] = new() { RequestsPerMinute = 1 } };
        using var router = Create(source, providers: providers);
        await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // When
        var second = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(1, source["a"].Calls);
        Assert.Equal("b", second.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(["local_rate_limit", null], Attempts(second).Select(x => x.Error));
    }

    [Fact]
    public async Task GetResponse_RpmLimitReachedAndWaitFits_WaitsForTheSameProvider()
    {
        // Given: 120 a minute is two a second; the third call waits under a second
        var source = new ScriptedProviderSource(new("a"), new("b"));
        var providers = new Dictionary<string, ProviderRouteOptions> { ["a"] = new() { RequestsPerMinute = 120 } };
        using var router = Create(source, providers: providers, options: FastOptions with { MaxRetryWait = TimeSpan.FromSeconds(5) });

        // When
        for (var i = 0; i < 3; i++)
        {
            await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);
        }

        // Then
        Assert.Equal(3, source["a"].Calls);
        Assert.Equal(0, source["b"].Calls);
    }

    [Fact]
    public async Task GetResponse_TpmLimitExceeded_MovesOn()
    {
        // Given: 2,000 tokens a minute; each call is estimated at about 1,025 tokens (1,024 output by default)
        var source = new ScriptedProviderSource(new("a"), new("b"));
        var providers = new Dictionary<string, ProviderRouteOptions> { ["a"] = new() { TokensPerMinute = 2_000 } };
        using var router = Create(source, providers: providers);
        await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // When
        var second = await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("b", second.AdditionalProperties![RouterAttempts.ProviderKey]);
    }
}
