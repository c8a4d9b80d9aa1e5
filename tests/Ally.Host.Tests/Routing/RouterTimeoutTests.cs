using Ally.Abstractions;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterTimeoutTests
{
    private static readonly RouterOptions NoRetries = FastOptions with { MaxRetries = 0, RetryBaseDelay = TimeSpan.Zero };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_TotalTimeoutFires_ThrowsTimeoutWithoutTryingFurther(bool streamed)
    {
        // Given: a provider that stalls, and a 10-minute total timeout on a fake clock
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a") { BeforeAnswer = ScriptedProvider.StallAsync };
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, options: NoRetries with { Timeout = TimeSpan.FromMinutes(10), FirstTokenTimeout = TimeSpan.FromHours(1) }, time: time);

        // When
        var call = AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);
        await a.Entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMinutes(10));

        // Then
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => call);
        Assert.Equal(ProviderErrorKind.Timeout, thrown.Kind);
        Assert.Contains("router.timeout_seconds", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0, source["b"].Calls);
    }

    [Fact]
    public async Task GetResponse_ProviderIgnoresCancellation_TotalTimeoutStillFires()
    {
        // Given: a client that never completes and never looks at its token
        var time = new FakeTimeProvider();
        var never = new TaskCompletionSource();
        var a = new ScriptedProvider("a") { BeforeAnswer = _ => never.Task };
        using var router = Create(new ScriptedProviderSource(a), options: NoRetries with { Timeout = TimeSpan.FromSeconds(5) }, time: time);

        // When
        var call = AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);
        await a.Entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(5));

        // Then
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => call);
        Assert.Equal(ProviderErrorKind.Timeout, thrown.Kind);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ProviderTimeoutFires_FallsBackToTheNextCandidate(bool streamed)
    {
        // Given: providers.a.timeout_seconds = 20
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a") { BeforeAnswer = ScriptedProvider.StallAsync };
        var source = new ScriptedProviderSource(a, new("b"));
        var providers = new Dictionary<string, ProviderRouteOptions> { ["a"] = new() { Timeout = TimeSpan.FromSeconds(20) } };
        using var router = Create(source, options: NoRetries, time: time, providers: providers);

        // When
        var call = AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);
        await a.Entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(20));
        var response = await call;

        // Then
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        var attempt = Attempts(response)[0];
        Assert.Equal("timeout", attempt.Error);
        Assert.Contains("providers.a.timeout_seconds", attempt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponse_FirstTokenTimeoutFires_FallsBackToTheNextCandidate()
    {
        // Given
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a") { BeforeAnswer = ScriptedProvider.StallAsync };
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, options: NoRetries with { FirstTokenTimeout = TimeSpan.FromSeconds(15) }, time: time);

        // When
        var call = AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);
        await a.Entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(15));
        var response = await call;

        // Then
        Assert.Equal("Hello there", response.Text);
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        var attempt = Attempts(response)[0];
        Assert.Equal("timeout", attempt.Error);
        Assert.Contains("router.first_token_timeout_seconds", attempt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponse_IdleTimeoutFiresAfterFirstPiece_EndsTruncatedWithPartialText()
    {
        // Given: the provider stalls after its first piece
        var time = new FakeTimeProvider();
        var a = ScriptedProvider.StallingAfterFirstPiece("a", out var stalled);
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, options: NoRetries with { IdleTimeout = TimeSpan.FromSeconds(7) }, time: time);
        var received = "";

        // When
        var reading = Task.Run(
            async () =>
            {
                await foreach (var update in router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
                {
                    received += update.Text;
                }
            },
            TestContext.Current.CancellationToken);
        await stalled.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(7));

        // Then
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => reading);
        Assert.Equal(ProviderErrorKind.TruncatedStream, thrown.Kind);
        Assert.Equal("Hello", thrown.PartialText);
        Assert.Equal("Hello", received);
        var cause = Assert.IsType<ProviderException>(thrown.InnerException);
        Assert.Equal(ProviderErrorKind.Timeout, cause.Kind);
        Assert.Contains("router.idle_timeout_seconds", cause.Message, StringComparison.Ordinal);
        Assert.Equal(0, source["b"].Calls);
    }

    [Fact]
    public async Task GetStreamingResponse_PiecesKeepComing_IdleTimeoutRestartsWithEachPiece()
    {
        // Given: an idle timeout of 10 s, and a provider that takes 6 s to its first piece and 6 s to the next
        var time = new FakeTimeProvider();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var between = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = new ScriptedProvider("a")
        {
            BeforeAnswer = async ct =>
            {
                waiting.TrySetResult();
                await releaseFirst.Task.WaitAsync(ct);
            },
            BetweenPieces = async ct =>
            {
                between.TrySetResult();
                await releaseSecond.Task.WaitAsync(ct);
            },
        };
        using var router = Create(new ScriptedProviderSource(a), options: NoRetries with { IdleTimeout = TimeSpan.FromSeconds(10) }, time: time);

        // When: 12 s pass in all, but never 10 s without a piece
        var call = AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);
        await waiting.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(6));
        releaseFirst.SetResult();
        await between.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(6));
        releaseSecond.SetResult();
        var response = await call;

        // Then
        Assert.Equal("Hello there", response.Text);
    }

    [Fact]
    public async Task GetStreamingResponse_ProviderFirstTokenTimeout_OverridesTheRoutersAndFallsBack()
    {
        // Given: the router waits 60 s for a first piece, but providers.a.first_token_timeout_seconds is 3
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a") { BeforeAnswer = ScriptedProvider.StallAsync };
        var source = new ScriptedProviderSource(a, new("b"));
        var providers = new Dictionary<string, ProviderRouteOptions> { ["a"] = new() { FirstTokenTimeout = TimeSpan.FromSeconds(3) } };
        using var router = Create(source, options: NoRetries with { FirstTokenTimeout = TimeSpan.FromSeconds(60) }, time: time, providers: providers);

        // When
        var call = AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);
        await a.Entered.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(3));
        var response = await call;

        // Then
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        var attempt = Attempts(response)[0];
        Assert.Equal("timeout", attempt.Error);
        Assert.Contains("providers.a.first_token_timeout_seconds", attempt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponse_ProviderIdleTimeout_OverridesTheRoutersAndEndsTruncated()
    {
        // Given: the router allows 60 s between pieces, but providers.a.idle_timeout_seconds is 2
        var time = new FakeTimeProvider();
        var a = ScriptedProvider.StallingAfterFirstPiece("a", out var stalled);
        var providers = new Dictionary<string, ProviderRouteOptions> { ["a"] = new() { IdleTimeout = TimeSpan.FromSeconds(2) } };
        using var router = Create(new ScriptedProviderSource(a, new("b")), options: NoRetries with { IdleTimeout = TimeSpan.FromSeconds(60) }, time: time, providers: providers);

        // When
        var call = Task.Run(() => AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        await stalled.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(2));

        // Then
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => call);
        Assert.Equal(ProviderErrorKind.TruncatedStream, thrown.Kind);
        Assert.Equal("Hello", thrown.PartialText);
        Assert.Contains("providers.a.idle_timeout_seconds", thrown.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponse_CallerSlowToHandlePieces_NeitherPieceTimeoutFires()
    {
        // Given: first piece within 60 s and 10 s between pieces; the provider sends its first piece at 50 s, and the
        // caller then spends 30 s on each piece (rendering, a tool) before it reads on
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a")
        {
            BeforeAnswer = _ =>
            {
                time.Advance(TimeSpan.FromSeconds(50));
                return Task.CompletedTask;
            },
            BetweenPieces = ct =>
            {
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
            BeforeEnd = ct =>
            {
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
        };
        using var router = Create(
            new ScriptedProviderSource(a),
            fallbacks: [],
            options: NoRetries with { Timeout = TimeSpan.FromMinutes(10), FirstTokenTimeout = TimeSpan.FromSeconds(60), IdleTimeout = TimeSpan.FromSeconds(10) },
            time: time);

        // When
        var text = "";
        await foreach (var update in router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            text += update.Text;
            if (update.Text.Length > 0)
            {
                time.Advance(TimeSpan.FromSeconds(30));
            }
        }

        // Then: the provider was never late; only the caller was slow
        Assert.Equal("Hello there", text);
    }
}
