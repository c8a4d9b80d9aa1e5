using Ally.Abstractions;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterFailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_PrimaryAnswers_ReportsProviderModelCostAndOneAttempt(bool streamed)
    {
        // Given
        var source = new ScriptedProviderSource(new("a"), new("b"), new("c"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Hello there", response.Text);
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal("m1", response.AdditionalProperties[RouterAttempts.ModelKey]);
        Assert.Equal((100 * 1m + 50 * 2m) / 1_000_000m, response.AdditionalProperties[RouterAttempts.CostKey]);
        var attempt = Assert.Single(Attempts(response));
        Assert.Equal("a", attempt.Provider);
        Assert.Null(attempt.Error);
        Assert.Equal(0, source["b"].Calls);
    }

    [Theory]
    [InlineData(false, ProviderErrorKind.Authentication)]
    [InlineData(true, ProviderErrorKind.Authentication)]
    [InlineData(false, ProviderErrorKind.QuotaExceeded)]
    [InlineData(true, ProviderErrorKind.QuotaExceeded)]
    public async Task GetResponse_BadKey_MovesOnWithoutRetryAndCoolsDown(bool streamed, ProviderErrorKind kind)
    {
        // Given
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(kind, status: 401));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(1, a.Calls);
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal([ErrorKindNames.Of(kind), null], Attempts(response).Select(x => x.Error));
        Assert.Contains(router.Cooldowns, c => c.Provider == "a" && c.Reason == ErrorKindNames.Of(kind));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_RateLimitWithShortRetryAfter_WaitsAndRetriesTheSameProvider(bool streamed)
    {
        // Given: a retry-after of 20 ms, under the one-second cap
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.RateLimit, TimeSpan.FromMilliseconds(20), 429));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, a.Calls);
        Assert.Equal(0, source["b"].Calls);
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        var attempts = Attempts(response);
        Assert.Equal("rate_limit", attempts[0].Error);
        Assert.Equal(0.02, attempts[0].WaitSeconds!.Value, 3);
        Assert.Equal(429, attempts[0].StatusCode);
        Assert.Empty(router.Cooldowns);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_RateLimitWithRetryAfterAboveCap_MovesOnAndCoolsDownForTheRetryAfter(bool streamed)
    {
        // Given: the provider asks for two minutes, the cap is one second
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.RateLimit, TimeSpan.FromMinutes(2), 429));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        var time = new Fakes.FakeTimeProvider();
        using var router = Create(source, time: time);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(1, a.Calls);
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Null(Attempts(response)[0].WaitSeconds);
        var cooldown = Assert.Single(router.Cooldowns);
        Assert.Equal("rate_limit", cooldown.Reason);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(2), cooldown.Until);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_RateLimitWithoutRetryAfter_RetriesWithBackoff(bool streamed)
    {
        // Given: a real 429 may carry no retry-after at all
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.RateLimit, retryAfter: null, 429));
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, a.Calls);
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.NotNull(Attempts(response)[0].WaitSeconds);
    }

    [Theory]
    [InlineData(false, ProviderErrorKind.Overloaded)]
    [InlineData(true, ProviderErrorKind.Overloaded)]
    [InlineData(false, ProviderErrorKind.ServerError)]
    [InlineData(true, ProviderErrorKind.ServerError)]
    [InlineData(false, ProviderErrorKind.Network)]
    [InlineData(true, ProviderErrorKind.Network)]
    public async Task GetResponse_TransientFailures_RetryWithBackoffThenFallBack(bool streamed, ProviderErrorKind kind)
    {
        // Given: max_retries 2, so three failures exhaust the provider
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(kind, status: 529), a.Error(kind, status: 529), a.Error(kind, status: 529));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(3, a.Calls);
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        var attempts = Attempts(response);
        Assert.Equal([ErrorKindNames.Of(kind), ErrorKindNames.Of(kind), ErrorKindNames.Of(kind), null], attempts.Select(x => x.Error));
        Assert.All(attempts.Take(2), x => Assert.True(x.WaitSeconds >= 0, "A retry records its backoff."));
        Assert.Null(attempts[2].WaitSeconds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_OverloadedOnce_RetrySucceedsAtTheSameProvider(bool streamed)
    {
        // Given
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Overloaded, status: 529));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, a.Calls);
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(0, source["b"].Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_FallbackModelNotFound_MovesOnAndReportsIt(bool streamed)
    {
        // Given: a's key is refused; the chain's b/no-such-model does not exist at b
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Authentication, status: 401));
        var b = new ScriptedProvider("b");
        b.Failing(b.Error(ProviderErrorKind.NotFound, status: 404));
        var source = new ScriptedProviderSource(a, b, new("c"));
        using var router = Create(source, fallbacks: ["b/no-such-model", "c"]);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then: c answered, b was asked once and is not cooling down
        Assert.Equal("c", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(1, b.Calls);
        Assert.Equal(
            [("a", "authentication"), ("b", "not_found"), ("c", (string?)null)],
            Attempts(response).Select(x => (x.Provider, x.Error)));
        Assert.Equal("no-such-model", Attempts(response)[1].Model);
        Assert.Equal(["a"], router.Cooldowns.Select(c => c.Provider));
    }

    [Fact]
    public async Task GetResponse_EveryFallbackModelNotFound_EndsWithTheLastNotFound()
    {
        // Given
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Overloaded, status: 503), a.Error(ProviderErrorKind.Overloaded, status: 503), a.Error(ProviderErrorKind.Overloaded, status: 503));
        var b = new ScriptedProvider("b");
        var missing = b.Error(ProviderErrorKind.NotFound, status: 404);
        b.Failing(missing);
        using var router = Create(new ScriptedProviderSource(a, b), fallbacks: ["b/no-such-model"]);

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Same(missing, thrown);
        Assert.Equal(["overloaded", "overloaded", "overloaded", "not_found"], RouterAttempts.From(thrown).Select(x => x.Error));
    }

    [Theory]
    [InlineData(false, ProviderErrorKind.InvalidRequest)]
    [InlineData(true, ProviderErrorKind.InvalidRequest)]
    [InlineData(false, ProviderErrorKind.NotFound)]
    [InlineData(true, ProviderErrorKind.NotFound)]
    [InlineData(false, ProviderErrorKind.ContentFilter)]
    [InlineData(true, ProviderErrorKind.ContentFilter)]
    public async Task GetResponse_CallerMistake_SurfacesWithoutRetryOrFallback(bool streamed, ProviderErrorKind kind)
    {
        // Given
        var a = new ScriptedProvider("a");
        var failure = a.Error(kind, status: 400);
        a.Failing(failure);
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        using var router = Create(source);

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Same(failure, thrown);
        Assert.Equal(1, a.Calls);
        Assert.Equal(0, source["b"].Calls);
        var attempt = Assert.Single(RouterAttempts.From(thrown));
        Assert.Equal(ErrorKindNames.Of(kind), attempt.Error);
        Assert.Empty(router.Cooldowns);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ContextLengthExceeded_MovesToTheNextLargerWindow(bool streamed)
    {
        // Given: a and b have 8k windows, c has 128k
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.ContextLengthExceeded, status: 400));
        var source = new ScriptedProviderSource(a, new("b"), new("c"));
        using var router = Create(source);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(1, a.Calls);
        Assert.Equal(0, source["b"].Calls);
        Assert.Equal(1, source["c"].Calls);
        Assert.Equal(["context_length_exceeded", "context_window_too_small", null], Attempts(response).Select(x => x.Error));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ContextLengthExceededWithNoLargerWindow_SurfacesTheError(bool streamed)
    {
        // Given: the largest model fails
        var c = new ScriptedProvider("c");
        var failure = c.Error(ProviderErrorKind.ContextLengthExceeded, status: 400);
        c.Failing(failure);
        var source = new ScriptedProviderSource(new("a"), new("b"), c);
        using var router = Create(source, fallbacks: ["a", "b"], primary: "c");

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Same(failure, thrown);
        Assert.Equal(0, source["a"].Calls + source["b"].Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_EveryCandidateFails_ThrowsTheLastFailureWithEveryAttempt(bool streamed)
    {
        // Given
        var source = new ScriptedProviderSource(new("a"), new("b"), new("c"));
        foreach (var name in new[] { "a", "b", "c" })
        {
            source[name].Failing(source[name].Error(ProviderErrorKind.Authentication, status: 401));
        }

        using var router = Create(source);

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal("c", thrown.Provider);
        Assert.Equal(["a", "b", "c"], RouterAttempts.From(thrown).Select(x => x.Provider));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_UnknownFallbackProvider_IsSkippedAsUnavailable(bool streamed)
    {
        // Given
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Authentication));
        var source = new ScriptedProviderSource(a, new("c"));
        using var router = Create(source, fallbacks: ["nosuch", "c"]);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(["authentication", "unavailable", null], Attempts(response).Select(x => x.Error));
    }

    [Fact]
    public async Task GetResponse_CallerCancels_PropagatesCancellation()
    {
        // Given
        var a = new ScriptedProvider("a") { BeforeAnswer = ScriptedProvider.StallAsync };
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        // When
        var call = AskAsync(router, streamed: false, cancellationToken: cts.Token);
        await a.Entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        await cts.CancelAsync();

        // Then
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(0, source["b"].Calls);
    }

    [Fact]
    public async Task GetResponse_FallbackWithoutModel_ClearsTheCallersModelAndAllyKeys()
    {
        // Given
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Authentication));
        var source = new ScriptedProviderSource(a, new("b", defaultModel: "b-default"));
        using var router = Create(source, fallbacks: ["b"]);
        var options = new ChatOptions
        {
            ModelId = "a-special",
            AdditionalProperties = new() { ["ally.role"] = "coder", ["ally.session_id"] = "s1", ["seed_extra"] = 1 },
        };

        // When
        var response = await AskAsync(router, streamed: false, options, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var (_, sentToA) = Assert.Single(a.Client.Received);
        Assert.Equal("a-special", sentToA!.ModelId);
        Assert.False(sentToA.AdditionalProperties!.ContainsKey("ally.role"));
        Assert.Equal(1, sentToA.AdditionalProperties["seed_extra"]);
        var (_, sentToB) = Assert.Single(source["b"].Client.Received);
        Assert.Null(sentToB!.ModelId);
        Assert.Equal("b-default", response.AdditionalProperties![RouterAttempts.ModelKey]);
        Assert.Equal("a-special", options.ModelId);
    }
}
