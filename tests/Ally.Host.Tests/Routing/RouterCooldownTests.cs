using Ally.Abstractions;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterCooldownTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ProviderAnswered429_IsSkippedUntilItsCooldownEnds(bool streamed)
    {
        // Given: a asks for 45 s, more than the 30 s cooldown and the 1 s cap
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.RateLimit, TimeSpan.FromSeconds(45), 429));
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, time: time);
        await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // When: a second call during the cooldown
        var during = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then: a was skipped without a request
        Assert.Equal(1, a.Calls);
        Assert.Equal(["cooldown", null], Attempts(during).Select(x => x.Error));
        var cooldown = Assert.Single(router.Cooldowns);
        Assert.Equal(("a", "rate_limit"), (cooldown.Provider, cooldown.Reason));

        // When: the cooldown is over
        time.Advance(TimeSpan.FromSeconds(46));
        var after = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, a.Calls);
        Assert.Equal("a", after.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Empty(router.Cooldowns);
    }

    [Fact]
    public async Task GetResponse_RateLimitShorterThanCooldown_CoolsDownForCooldownSeconds()
    {
        // Given
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.RateLimit, TimeSpan.FromSeconds(5), 429));
        using var router = Create(new ScriptedProviderSource(a, new("b")), options: FastOptions with { MaxRetryWait = TimeSpan.FromSeconds(1) }, time: time);

        // When
        await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(30), Assert.Single(router.Cooldowns).Until);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_OneCallFailsAfterItsRetries_NextCallStillTriesTheProvider(bool streamed)
    {
        // Given: one call whose three attempts (the call and its two retries) all fail, as when Ollama is not started
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Network), a.Error(ProviderErrorKind.Network), a.Error(ProviderErrorKind.Network));
        using var router = Create(new ScriptedProviderSource(a), fallbacks: [], options: FastOptions with { RetryBaseDelay = TimeSpan.Zero }, time: time);
        await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken));

        // When: the user starts it and asks again at once
        var retried = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then: the provider is asked, not skipped as cooling down
        Assert.Equal(4, a.Calls);
        Assert.Equal("a", retried.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Empty(router.Cooldowns);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ProviderKeepsFailing_CircuitOpensAndClosesAfterCooldown(bool streamed)
    {
        // Given: three calls in a row fail at a after their retries (nine server errors) and fall back to b
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        for (var i = 0; i < 9; i++)
        {
            a.Failing(a.Error(ProviderErrorKind.ServerError, status: 500));
        }

        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, options: FastOptions with { RetryBaseDelay = TimeSpan.Zero }, time: time);
        for (var i = 0; i < 3; i++)
        {
            var failed = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("b", failed.AdditionalProperties![RouterAttempts.ProviderKey]);
        }

        // When
        var during = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(9, a.Calls);
        Assert.Equal("cooldown", Attempts(during)[0].Error);
        var cooldown = Assert.Single(router.Cooldowns);
        Assert.Equal("repeated_failures", cooldown.Reason);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(30), cooldown.Until);

        // When: the cooldown is over, a answers again
        time.Advance(TimeSpan.FromSeconds(31));
        var after = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("a", after.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Empty(router.Cooldowns);
    }

    [Fact]
    public async Task GetResponse_EveryCandidateCoolingDown_FailsFastNamingWhenTheyReturn()
    {
        // Given
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.RateLimit, TimeSpan.FromMinutes(5), 429));
        using var router = Create(new ScriptedProviderSource(a), fallbacks: [], time: time);
        await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken));

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, thrown.Kind);
        Assert.Contains("cooling down", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMinutes(5), thrown.RetryAfter);
        Assert.Equal(1, a.Calls);
    }

    [Fact]
    public async Task Cooldowns_SharedState_AreSeenByEveryRouter()
    {
        // Given: two routers (two roles) over one state
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Authentication, status: 401));
        var source = new ScriptedProviderSource(a, new("b"));
        var config = new RoutingConfig { Fallbacks = [new RouteCandidate("b", null)], Router = FastOptions };
        using var state = new RouterState(config, time);
        using var general = new RouterChatClient(source, new RouteCandidate("a", null), state, Prices);
        using var coder = new RouterChatClient(source, new RouteCandidate("a", null), state, Prices, role: "coder");

        // When
        await AskAsync(general, streamed: false, cancellationToken: TestContext.Current.CancellationToken);
        await AskAsync(coder, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(1, a.Calls);
        Assert.Single(coder.Cooldowns);
    }
}
