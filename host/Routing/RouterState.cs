using System.Collections.Concurrent;
using Ally.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Ally.Host.Routing;

/// <summary>What the router learns from traffic and keeps across calls: cooldowns, circuit breakers, rate limiters, latencies.</summary>
/// <remarks>One instance per process, shared by every <see cref="RouterChatClient"/> (one per role, or the gateway's). Thread-safe.</remarks>
internal sealed class RouterState : IDisposable
{
    /// <summary>Carries the call through Polly's callbacks, which are shared by all calls to a provider.</summary>
    internal static readonly ResiliencePropertyKey<RouterCall> CallKey = new("ally.router.call");

    /// <summary>Carries the wait <see cref="ShouldRetry"/> chose to Polly's delay generator.</summary>
    private static readonly ResiliencePropertyKey<TimeSpan> DelayKey = new("ally.router.retry_delay");

    private readonly RoutingConfig _config;
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ProviderRateLimiter> _limiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Random _random;
    private int _roundRobin = -1;

    public RouterState(RoutingConfig config, TimeProvider? timeProvider = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        TimeProvider = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared;
        Cooldowns = new CooldownTracker(TimeProvider);
    }

    public RoutingConfig Config => _config;

    public TimeProvider TimeProvider { get; }

    public CooldownTracker Cooldowns { get; }

    public LatencyTracker Latency { get; } = new();

    public int NextRoundRobin() => Interlocked.Increment(ref _roundRobin);

    public double NextRandom()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }

    public ProviderRateLimiter? GetLimiter(string provider)
    {
        var options = _config.ForProvider(provider);
        if (options.RequestsPerMinute is null && options.TokensPerMinute is null)
        {
            return null;
        }

        return _limiters.GetOrAdd(provider, static (_, o) => new ProviderRateLimiter(o.RequestsPerMinute, o.TokensPerMinute), options);
    }

    /// <summary>Gets the provider's retry and circuit-breaker pipeline; the circuit is the provider's, shared by all its calls.</summary>
    public ResiliencePipeline GetPipeline(string provider) =>
        _pipelines.GetOrAdd(provider, static (name, state) => state.BuildPipeline(name), this);

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }
    }

    /// <summary>Gets whether a failure is worth retrying at the same provider: overload, 5xx, network, timeouts, unknown.</summary>
    internal static bool IsTransient(ProviderErrorKind kind) => kind is
        ProviderErrorKind.Overloaded or ProviderErrorKind.ServerError or ProviderErrorKind.Network or
        ProviderErrorKind.Timeout or ProviderErrorKind.Unknown or ProviderErrorKind.TruncatedStream;

    private ResiliencePipeline BuildPipeline(string provider)
    {
        var options = _config.Router;
        var builder = new ResiliencePipelineBuilder { TimeProvider = TimeProvider, Name = $"ally-router-{provider}" };
        // The breaker is outside the retries, so it counts calls, not attempts: one call that fails after its
        // retries (Ollama not started yet, say) must not shut the provider out of the next one, the user's /retry.
        if (options.Cooldown >= TimeSpan.FromMilliseconds(500))
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = Math.Max(2, options.CircuitMinimumThroughput),
                SamplingDuration = options.CircuitSamplingDuration < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : options.CircuitSamplingDuration,
                BreakDuration = options.Cooldown,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is ProviderException p && IsTransient(p.Kind)),
                OnOpened = args =>
                {
                    Cooldowns.Enter(provider, CooldownTracker.RepeatedFailures, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    Cooldowns.Clear(provider, CooldownTracker.RepeatedFailures);
                    return ValueTask.CompletedTask;
                },
            });
        }

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,

                // The wait is decided in ShouldHandle, where a wait that would outlast the call can still turn into
                // "move on to the next candidate"; DelayGenerator only hands Polly that decision.
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome.Exception, args.AttemptNumber)),
                DelayGenerator = static args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(DelayKey, out var delay) ? delay : (TimeSpan?)null),
                OnRetry = static args =>
                {
                    if (args.Context.Properties.TryGetValue(CallKey, out var call))
                    {
                        call.NoteWait(args.RetryDelay);
                    }

                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
    }

    /// <summary>Decides whether to retry at the same provider, and how long to wait first (kept in <see cref="DelayKey"/>).</summary>
    /// <remarks>
    /// A wait that would leave no time of the call (<c>router.timeout_seconds</c>) is not taken: the failure goes back to
    /// the router, which moves on to the next candidate instead of sleeping into a timeout.
    /// </remarks>
    private bool ShouldRetry(ResilienceContext context, Exception? exception, int attemptNumber)
    {
        if (exception is not ProviderException failure || !context.Properties.TryGetValue(CallKey, out var call))
        {
            return false;
        }

        TimeSpan delay;
        if (failure.Kind == ProviderErrorKind.RateLimit && failure.RetryAfter is { } retryAfter)
        {
            // The provider's own figure, without jitter, when it fits the cap; a longer one moves on.
            if (retryAfter > call.Options.MaxRetryWait)
            {
                return false;
            }

            delay = retryAfter;
        }
        else if (failure.Kind == ProviderErrorKind.RateLimit || IsTransient(failure.Kind))
        {
            // No retry-after: back off as for overload.
            delay = Backoff(call.Options, attemptNumber);
        }
        else
        {
            return false;
        }

        if (delay >= call.Remaining)
        {
            return false;
        }

        context.Properties.Set(DelayKey, delay);
        return true;
    }

    /// <summary>Gets the exponential backoff before retry <paramref name="attemptNumber"/> (0 for the first): the base delay doubled each time, jittered by ±50 %, capped by <c>router.max_retry_wait_seconds</c>.</summary>
    private TimeSpan Backoff(RouterOptions options, int attemptNumber)
    {
        var exponential = options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attemptNumber, 30));
        var jittered = exponential * (0.5 + NextRandom());
        var capped = options.MaxRetryWait > TimeSpan.Zero ? Math.Min(jittered, options.MaxRetryWait.TotalMilliseconds) : jittered;
        return TimeSpan.FromMilliseconds(Math.Min(capped, TimeSpan.FromDays(1).TotalMilliseconds));
    }
}
