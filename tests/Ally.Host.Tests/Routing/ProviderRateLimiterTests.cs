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
}
