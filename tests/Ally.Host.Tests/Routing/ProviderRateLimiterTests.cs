using Ally.Host.Routing;

namespace Ally.Host.Tests.Routing;

public sealed class ProviderRateLimiterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(30)]
    [InlineData(60)]
    [InlineData(90)]
    [InlineData(100)]
    [InlineData(119)]
    [InlineData(3_500)]
    [InlineData(30_000)]
    [InlineData(1_000_000_000)]
    public void Refill_AnyLimit_GivesExactlyThatManyAMinuteAndNeverRefillsFasterThanOnceASecond(int perMinute)
    {
        // When
        var (period, perPeriod) = ProviderRateLimiter.Refill(perMinute);

        // Then: a limit that is not a multiple of 60 is not rounded down (90 a minute is not 60)
        var aMinute = perPeriod * (TimeSpan.FromMinutes(1) / period);
        Assert.InRange(aMinute, perMinute * 0.9999, perMinute * 1.0001);
        Assert.True(period >= TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1), $"refills every {period}");
        Assert.True(period <= TimeSpan.FromMinutes(1), $"refills every {period}");
    }

    [Fact]
    public async Task AcquireAsync_BucketEmptyAndRefillTooFarAway_ReturnsNullAtOnce()
    {
        // Given: one request a minute, already spent
        using var limiter = new ProviderRateLimiter(requestsPerMinute: 1, tokensPerMinute: null);
        using var first = await limiter.AcquireAsync(10, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

        // When
        var second = await limiter.AcquireAsync(10, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

        // Then
        Assert.NotNull(first);
        Assert.Null(second);
    }

    [Fact]
    public async Task AcquireAsync_TokenBucketRefuses_GivesTheRequestSlotBack()
    {
        // Given: two requests a second and 2,000 tokens a minute, 1,500 of them spent. The buckets refill on the real
        // clock, a second after they are made: a refill in between could only hide the bug, never fail the fix.
        var cancellationToken = TestContext.Current.CancellationToken;
        using var limiter = new ProviderRateLimiter(requestsPerMinute: 120, tokensPerMinute: 2_000);
        using var first = await limiter.AcquireAsync(1_500, TimeSpan.Zero, cancellationToken);

        // When: a call of 1,000 tokens is refused by the token bucket, then one of 400 asks
        var refused = await limiter.AcquireAsync(1_000, TimeSpan.Zero, cancellationToken);
        using var third = await limiter.AcquireAsync(400, TimeSpan.Zero, cancellationToken);

        // Then: the refused call did not use up the second request of the second
        Assert.NotNull(first);
        Assert.Null(refused);
        Assert.NotNull(third);
    }
}
