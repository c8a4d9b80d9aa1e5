using System.Threading.RateLimiting;

namespace Ally.Host.Routing;

/// <summary>Keeps Ally under a provider's <c>rpm</c> and <c>tpm</c> from config.json.</summary>
/// <remarks>
/// Token buckets that refill every second: the request bucket holds one second's worth (at least one request), so
/// a burst cannot spend a whole minute's allowance at once and trip the provider's own limiter; the token bucket
/// holds the minute, as prompts are large. A call that would have to
/// wait longer than it may (its time budget, capped by <c>router.max_retry_wait_seconds</c>) does not queue: the
/// router moves on to the next candidate, and a request slot taken for a call the token bucket then refuses is given
/// back. The buckets refill on the real clock: <see cref="TokenBucketRateLimiter"/> measures elapsed time with
/// <see cref="System.Diagnostics.Stopwatch"/> even when replenished by hand, so an injected clock cannot drive it. Thread-safe.
/// </remarks>
internal sealed class ProviderRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter? _requests;
    private readonly TokenBucketRateLimiter? _tokens;
    private readonly int _tokenLimit;
    private readonly int _requestLimit;
    private readonly Lock _refundGate = new();
    private int _requestRefunds;

    public ProviderRateLimiter(int? requestsPerMinute, int? tokensPerMinute)
    {
        if (requestsPerMinute is { } rpm and > 0)
        {
            // One second's worth of requests at most in a burst (at least one).
            _requestLimit = Math.Max(Math.Max(1, rpm / 60), Refill(rpm).PerPeriod);
            _requests = Bucket(rpm, _requestLimit);
        }

        if (tokensPerMinute is { } tpm and > 0)
        {
            // Prompts are large and bursty: the token bucket holds the whole minute.
            _tokens = Bucket(tpm, tpm);
            _tokenLimit = tpm;
        }
    }

    public bool IsLimited => _requests is not null || _tokens is not null;

    /// <summary>Takes one request and <paramref name="estimatedTokens"/> tokens, waiting at most <paramref name="maxWait"/>.</summary>
    /// <returns>The leases to hold for the call, or <see langword="null"/> when the wait would be longer than allowed.</returns>
    public async ValueTask<IDisposable?> AcquireAsync(int estimatedTokens, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var refunded = TakeRefund();
        var requestLease = _requests is null || refunded ? null : await AcquireAsync(_requests, 1, maxWait, cancellationToken);
        if (_requests is not null && !refunded && requestLease is null)
        {
            return null;
        }

        // A call larger than the bucket could never be admitted; it takes the whole bucket instead.
        RateLimitLease? tokenLease;
        try
        {
            tokenLease = _tokens is null ? null : await AcquireAsync(_tokens, Math.Clamp(estimatedTokens, 1, _tokenLimit), maxWait, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            requestLease?.Dispose();
            GiveBackRequest();
            throw;
        }

        if (_tokens is not null && tokenLease is null)
        {
            // Disposing a token bucket's lease returns nothing: the request slot is given back by hand, or a call the
            // token bucket turned away would still count against rpm.
            requestLease?.Dispose();
            GiveBackRequest();
            return null;
        }

        return new Leases(requestLease, tokenLease);
    }

    public void Dispose()
    {
        _requests?.Dispose();
        _tokens?.Dispose();
    }

    private bool TakeRefund()
    {
        lock (_refundGate)
        {
            if (_requestRefunds == 0)
            {
                return false;
            }

            _requestRefunds--;
            return true;
        }
    }

    private void GiveBackRequest()
    {
        if (_requests is null)
        {
            return;
        }

        lock (_refundGate)
        {
            // Never more than a burst's worth, as a bucket never holds more than it can.
            _requestRefunds = Math.Min(_requestRefunds + 1, _requestLimit);
        }
    }

    /// <summary>Gets how a bucket refills to give exactly <paramref name="perMinute"/> a minute, never with a timer faster than once a second.</summary>
    /// <remarks>
    /// Whole permits every period: <c>k</c> permits every <c>k</c>/<paramref name="perMinute"/> minutes, with the smallest
    /// <c>k</c> that makes the period at least a second (one permit a period below 60 a minute). Refilling
    /// <c>perMinute / 60</c> a second instead would round 90 a minute down to 60.
    /// </remarks>
    internal static (TimeSpan Period, int PerPeriod) Refill(int perMinute)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perMinute);
        var perPeriod = (int)Math.Max(1, (perMinute + 59L) / 60);
        return (TimeSpan.FromTicks(TimeSpan.TicksPerMinute * perPeriod / perMinute), perPeriod);
    }

    private static TokenBucketRateLimiter Bucket(int perMinute, int capacity)
    {
        var (period, perPeriod) = Refill(perMinute);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(capacity, perPeriod),
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    private static async ValueTask<RateLimitLease?> AcquireAsync(TokenBucketRateLimiter limiter, int permits, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var lease = limiter.AttemptAcquire(permits);
        if (lease.IsAcquired)
        {
            return lease;
        }

        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.MaxValue;
        lease.Dispose();
        if (wait > maxWait)
        {
            return null;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(maxWait);
        try
        {
            lease = await limiter.AcquireAsync(permits, bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    private sealed class Leases(RateLimitLease? first, RateLimitLease? second) : IDisposable
    {
        public void Dispose()
        {
            first?.Dispose();
            second?.Dispose();
        }
    }
}
