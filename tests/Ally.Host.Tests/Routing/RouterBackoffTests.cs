using Ally.Abstractions;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

/// <summary>Retry waits run on the injected clock: exponential backoff with jitter, and retry-after, each capped.</summary>
public sealed class RouterBackoffTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_Overloaded_BacksOffExponentiallyOnTheInjectedClock(bool streamed)
    {
        // Given: a base delay of one second and a jitter source that always draws the middle
        var (waits, attempts) = await RunRetriesAsync(streamed, new FixedRandom(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), ProviderErrorKind.Overloaded, null);

        // Then: the call waited on the fake clock, each wait longer than the one before, and the attempts say so
        Assert.Equal(2, waits.Count);
        Assert.True(waits[0] > TimeSpan.Zero, $"first wait {waits[0]}");
        Assert.True(waits[1] > waits[0], $"waits {waits[0]} then {waits[1]}");
        // Task.Delay waits whole milliseconds.
        Assert.InRange(attempts[0].WaitSeconds!.Value - waits[0].TotalSeconds, 0, 0.001);
        Assert.InRange(attempts[1].WaitSeconds!.Value - waits[1].TotalSeconds, 0, 0.001);
    }

    [Fact]
    public async Task GetResponse_Overloaded_WaitsAreJittered()
    {
        // Given / When: the same failures with two different random draws
        var (low, _) = await RunRetriesAsync(false, new FixedRandom(0.1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), ProviderErrorKind.ServerError, null);
        var (high, _) = await RunRetriesAsync(false, new FixedRandom(0.9), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), ProviderErrorKind.ServerError, null);

        // Then
        Assert.NotEqual(low[0], high[0]);
        Assert.NotEqual(low[1], high[1]);
    }

    [Fact]
    public async Task GetResponse_BackoffAboveTheCap_WaitsNoLongerThanMaxRetryWait()
    {
        // Given: a base delay of 30 s and max_retry_wait_seconds of 2
        var (waits, _) = await RunRetriesAsync(false, new FixedRandom(0.5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2), ProviderErrorKind.Network, null);

        // Then
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_RateLimitWithRetryAfter_WaitsExactlyTheRetryAfterOnTheInjectedClock(bool streamed)
    {
        // Given: 429 with retry-after 7 s, under a 60 s cap
        var (waits, attempts) = await RunRetriesAsync(streamed, new FixedRandom(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), ProviderErrorKind.RateLimit, TimeSpan.FromSeconds(7));

        // Then: no jitter, no backoff: the provider's own figure
        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7)], waits);
        Assert.Equal([7.0, 7.0], attempts.Take(2).Select(a => a.WaitSeconds!.Value));
    }

    [Theory]
    [InlineData(false, ProviderErrorKind.Overloaded, null)]
    [InlineData(true, ProviderErrorKind.Overloaded, null)]
    [InlineData(false, ProviderErrorKind.RateLimit, 20)]
    [InlineData(true, ProviderErrorKind.RateLimit, 20)]
    public async Task GetResponse_WaitLongerThanTheCallsTimeLeft_MovesOnInsteadOfWaiting(bool streamed, ProviderErrorKind kind, int? retryAfterSeconds)
    {
        // Given: the call may take 10 s; a's backoff would be 30 s (or its retry-after 20 s), both under the 60 s cap
        var cancellationToken = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(kind, retryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null, 503));
        var options = FastOptions with
        {
            MaxRetries = 2,
            RetryBaseDelay = TimeSpan.FromSeconds(30),
            MaxRetryWait = TimeSpan.FromSeconds(60),
            Timeout = TimeSpan.FromSeconds(10),
            FirstTokenTimeout = TimeSpan.FromSeconds(10),
        };
        using var router = Create(new ScriptedProviderSource(a, new("b")), fallbacks: ["b"], options: options, time: time, random: new FixedRandom(0.5));

        // When: the fake clock never moves, so a wait would never end
        var call = AskAsync(router, streamed, cancellationToken: cancellationToken);
        await WaitUntilAsync(() => call.IsCompleted, cancellationToken);

        // Then: b answered at once, and a was not retried
        var response = await call;
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(1, a.Calls);
        Assert.Null(Attempts(response)[0].WaitSeconds);
    }

    /// <summary>Lets provider a fail twice with <paramref name="kind"/>, then answer; advances the fake clock by exactly each retry wait.</summary>
    private static async Task<(List<TimeSpan> Waits, IReadOnlyList<RouterAttempt> Attempts)> RunRetriesAsync(
        bool streamed, Random random, TimeSpan baseDelay, TimeSpan maxWait, ProviderErrorKind kind, TimeSpan? retryAfter)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(kind, retryAfter, 500), a.Error(kind, retryAfter, 500));
        var options = FastOptions with
        {
            MaxRetries = 2,
            RetryBaseDelay = baseDelay,
            MaxRetryWait = maxWait,
            Timeout = TimeSpan.FromHours(1),
            FirstTokenTimeout = TimeSpan.FromHours(1),
        };
        using var router = Create(new ScriptedProviderSource(a, new("b")), fallbacks: ["b"], options: options, time: time, random: random);

        var call = AskAsync(router, streamed, cancellationToken: cancellationToken);
        var waits = new List<TimeSpan>();
        for (var calls = 1; calls <= 2; calls++)
        {
            // The only timer due within the hour is the retry's wait.
            var expected = calls;
            await WaitUntilAsync(() => a.Calls == expected && time.NextDue < TimeSpan.FromMinutes(59), cancellationToken);
            var due = time.NextDue!.Value;
            waits.Add(due);
            time.Advance(due);
        }

        var response = await call;
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(3, a.Calls);
        return (waits, Attempts(response));
    }

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;

        protected override double Sample() => value;
    }
}
