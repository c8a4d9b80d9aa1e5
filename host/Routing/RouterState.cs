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
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryWait > TimeSpan.Zero ? options.MaxRetryWait : null,
                Randomizer = NextRandom,
                ShouldHandle = static args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome.Exception)),
                DelayGenerator = static args => ValueTask.FromResult(
                    args.Outcome.Exception is ProviderException { Kind: ProviderErrorKind.RateLimit, RetryAfter: { } wait } ? wait : (TimeSpan?)null),
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

        return builder.Build();
    }

    private static bool ShouldRetry(ResilienceContext context, Exception? exception)
    {
        if (exception is not ProviderException failure)
        {
            return false;
        }

        if (failure.Kind == ProviderErrorKind.RateLimit)
        {
            // No retry-after: back off as for overload. Otherwise wait only when it fits the cap and the call's time.
            if (failure.RetryAfter is not { } wait)
            {
                return true;
            }

            return context.Properties.TryGetValue(CallKey, out var call) && wait <= call.Options.MaxRetryWait && wait < call.Remaining;
        }

        return IsTransient(failure.Kind);
    }
}
