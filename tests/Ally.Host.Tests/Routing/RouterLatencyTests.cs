using Ally.Abstractions;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

/// <summary>The lowest-latency strategy, measured from live traffic on a fake clock that the providers move.</summary>
public sealed class RouterLatencyTests
{
    private static readonly RouterOptions LowestLatency = FastOptions with { Strategy = RouterStrategy.LowestLatency, MaxRetries = 0 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_LowestLatency_LearnsFromLiveTrafficAndPrefersTheFasterProvider(bool streamed)
    {
        // Given: a takes 5 s to answer, b takes 1 s; neither has been measured yet
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a") { BeforeAnswer = Takes(time, TimeSpan.FromSeconds(5)) };
        var b = new ScriptedProvider("b") { BeforeAnswer = Takes(time, TimeSpan.FromSeconds(1)) };
        using var router = Create(new ScriptedProviderSource(a, b), fallbacks: ["b"], options: LowestLatency, time: time);

        // When: the first call measures a, the second tries the unmeasured b, and the rest follow the measurements
        var served = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);
            served.Add((string)response.AdditionalProperties![RouterAttempts.ProviderKey]!);
        }

        // Then
        Assert.Equal(["a", "b", "b", "b", "b"], served);
        Assert.Equal(5_000, router.State.Latency.Score("a", streamed));
        Assert.Equal(1_000, router.State.Latency.Score("b", streamed));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_FallbackAnswersAfterASlowFailure_IsMeasuredByItsOwnAttemptOnly(bool streamed)
    {
        // Given: a fails after 20 s, b answers in 1 s
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a")
        {
            BeforeAnswer = ct =>
            {
                time.Advance(TimeSpan.FromSeconds(20));
                throw new ProviderException(ProviderErrorKind.Network, "a is unreachable", "a");
            },
        };
        var b = new ScriptedProvider("b") { BeforeAnswer = Takes(time, TimeSpan.FromSeconds(1)) };
        using var router = Create(new ScriptedProviderSource(a, b), fallbacks: ["b"], options: LowestLatency, time: time);

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then: b's latency is its own second, not the 21 s the caller waited
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(1_000, router.State.Latency.Score("b", streamed));
    }

    [Fact]
    public async Task GetStreamingResponse_FallbackBreaksOffAfterASlowFailure_AttemptLatencyIsItsOwn()
    {
        // Given: a fails after 20 s; b sends its first piece after 1 s, then breaks off 2 s later
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a")
        {
            BeforeAnswer = ct =>
            {
                time.Advance(TimeSpan.FromSeconds(20));
                throw new ProviderException(ProviderErrorKind.Network, "a is unreachable", "a");
            },
        };
        var b = new ScriptedProvider("b")
        {
            BeforeAnswer = Takes(time, TimeSpan.FromSeconds(1)),
            BetweenPieces = Takes(time, TimeSpan.FromSeconds(2)),
            FailAfterFirstPiece = new ProviderException(ProviderErrorKind.Network, "connection reset", "b"),
        };
        using var router = Create(new ScriptedProviderSource(a, b), fallbacks: ["b"], options: LowestLatency, time: time);

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken));

        // Then: each attempt reports its own time
        Assert.Equal(ProviderErrorKind.TruncatedStream, thrown.Kind);
        Assert.Equal([20_000L, 3_000L], RouterAttempts.From(thrown).Select(x => x.LatencyMs));
    }

    /// <summary>A provider hook that takes <paramref name="duration"/> on the fake clock before answering.</summary>
    private static Func<CancellationToken, Task> Takes(FakeTimeProvider time, TimeSpan duration) => _ =>
    {
        time.Advance(duration);
        return Task.CompletedTask;
    };
}
