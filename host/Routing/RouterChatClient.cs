using System.Globalization;
using System.Runtime.ExceptionServices;
using Ally.Abstractions;
using Ally.Host.Pricing;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;
using Polly;
using Polly.CircuitBreaker;

namespace Ally.Host.Routing;

/// <summary>The chat client the agent and the gateway talk to: it sends each call to the best healthy provider and routes around failures.</summary>
/// <remarks>
/// <para>Candidates are the selected provider, then <c>fallbacks</c> (per role when configured), ordered by
/// <c>router.strategy</c>. Each failure is handled by its cause (PROVIDER-QUIRKS.md, "Across providers"): a bad key or
/// exhausted quota moves on at once; a rate limit waits for <c>retry-after</c> when that fits under
/// <c>router.max_retry_wait_seconds</c> and the call's time, else moves on; overload, 5xx, network errors and timeouts
/// are retried with exponential backoff and jitter, then move on; the caller's mistakes (invalid request, not found,
/// content filter) are surfaced unretried, except that a fallback whose model is not found moves on (the chain named
/// it, not the caller); a context-length failure moves to a candidate with a larger window.</para>
/// <para>A stream may fall back only until its first piece reached the caller; after that a failure ends it with
/// <see cref="ProviderErrorKind.TruncatedStream"/> and the partial text, and the router never switches provider.</para>
/// <para>The final response (and the last streamed update) carries <c>ally.provider</c>, <c>ally.model</c>,
/// <c>ally.cost_usd</c> and <c>ally.attempts</c> in its additional properties; a failure carries the attempts in
/// <see cref="Exception.Data"/> under <c>ally.attempts</c> (read them with <see cref="RouterAttempts.From"/>). The first
/// streamed update carries <c>ally.provider</c> and <c>ally.model</c> too. The role
/// and session of a call come from <c>ChatOptions.AdditionalProperties["ally.role"]</c> and <c>["ally.session_id"]</c>,
/// else from the constructor; <c>ally.*</c> entries are never passed on to providers.</para>
/// <para>Thread-safe; the state learned from traffic lives in a <see cref="RouterState"/> that several routers may share.</para>
/// </remarks>
internal sealed partial class RouterChatClient : IChatClient
{
    private readonly IProviderClientSource _clients;
    private readonly RouteCandidate _primary;
    private readonly RouterState _state;
    private readonly PriceTable _prices;
    private readonly UsageStore? _usage;
    private readonly BudgetGuard? _budget;
    private readonly string? _role;
    private readonly string? _sessionId;
    private readonly bool _ownsState;
    private readonly TimeProvider _timeProvider;

    /// <param name="clients">Where provider clients come from (the provider registry).</param>
    /// <param name="primary">The selected provider and model (config.json's <c>provider</c>/<c>model</c> or the command line).</param>
    /// <param name="state">The shared router state, which holds the <see cref="RoutingConfig"/> and the time provider.</param>
    /// <param name="prices">The price table; <see cref="PriceTable.BuiltIn"/> when <see langword="null"/>.</param>
    /// <param name="usage">Where calls are recorded, or <see langword="null"/> to record nothing.</param>
    /// <param name="budget">The budget guard, or <see langword="null"/> for no budget.</param>
    /// <param name="role">The role of calls that do not name one.</param>
    /// <param name="sessionId">The session of calls that do not name one.</param>
    public RouterChatClient(
        IProviderClientSource clients,
        RouteCandidate primary,
        RouterState state,
        PriceTable? prices = null,
        UsageStore? usage = null,
        BudgetGuard? budget = null,
        string? role = null,
        string? sessionId = null)
        : this(clients, primary, state, prices, usage, budget, role, sessionId, ownsState: false)
    {
    }

    private RouterChatClient(
        IProviderClientSource clients,
        RouteCandidate primary,
        RouterState state,
        PriceTable? prices,
        UsageStore? usage,
        BudgetGuard? budget,
        string? role,
        string? sessionId,
        bool ownsState)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(state);
        _clients = clients;
        _primary = primary with { Provider = clients.CanonicalName(primary.Provider) };
        _state = state;
        _prices = prices ?? PriceTable.BuiltIn;
        _usage = usage;
        _budget = budget;
        _role = role;
        _sessionId = sessionId;
        _ownsState = ownsState;
        _timeProvider = state.TimeProvider;
    }

    /// <summary>Gets the providers the router skips now, why, and until when (for <c>ally health</c>).</summary>
    public IReadOnlyList<CooldownInfo> Cooldowns => _state.Cooldowns.Snapshot();

    public RouterState State => _state;

    /// <summary>Creates a router with its own state, a budget guard when config.json sets a budget, and config.json's price overrides.</summary>
    public static RouterChatClient Create(
        IProviderClientSource clients,
        RouteCandidate primary,
        RoutingConfig config,
        PriceTable? prices = null,
        UsageStore? usage = null,
        string? role = null,
        string? sessionId = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(config);
        var state = new RouterState(config.WithCanonicalNames(clients.CanonicalName), timeProvider);
        var budget = config.Budget.IsLimited ? new BudgetGuard(config.Budget, usage, state.TimeProvider) : null;
        return new RouterChatClient(clients, primary, state, prices ?? PriceTable.Create(config.Pricing), usage, budget, role, sessionId, ownsState: true);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var call = BeginCall(messages, options, streaming: false, cancellationToken);
        try
        {
            var (response, plan) = await RunAsync(call, static (router, context, plan, call) => router.AttemptAsync(context, plan, call));
            return Complete(call, plan, response);
        }
        catch (Exception ex)
        {
            NoteFailure(call, ex);
            throw;
        }
        finally
        {
            await FinishAsync(call);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null && serviceType.IsInstanceOfType(this))
        {
            return this;
        }

        try
        {
            return _clients.GetClient(_primary.Provider, _primary.Model).GetService(serviceType, serviceKey);
        }
#pragma warning disable CA1031 // a service lookup answers "none" rather than fail
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (_ownsState)
        {
            _state.Dispose();
            _budget?.Dispose();
        }
    }

    private RouterCall BeginCall(IEnumerable<ChatMessage> messages, ChatOptions? options, bool streaming, CancellationToken cancellationToken)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var role = options?.AdditionalProperties?.TryGetValue(RouterAttempts.RoleKey, out var r) == true && r is string roleName ? roleName : _role;
        var session = options?.AdditionalProperties?.TryGetValue(RouterAttempts.SessionKey, out var s) == true && s is string sessionName ? sessionName : _sessionId;
        var primary = options?.ModelId is { } model && model != _primary.Model ? _primary with { Model = model } : _primary;
        return new RouterCall(_state.Config.Router, _timeProvider, list, options, primary, role, session, streaming, cancellationToken);
    }

    /// <summary>Tries the candidates in order until one answers, handling each failure by its cause.</summary>
    private async Task<(TResult Result, RoutePlan Plan)> RunAsync<TResult>(
        RouterCall call,
        Func<RouterChatClient, ResilienceContext, RoutePlan, RouterCall, ValueTask<TResult>> attempt)
    {
        var candidates = CandidateOrderer.Order(
            CanonicalCandidates(call),
            call.Options,
            _state,
            call.Streaming,
            c => EstimateCost(c, call));

        for (var index = 0; index < candidates.Count; index++)
        {
            var plan = await PlanAsync(call, candidates[index], first: index == 0);
            if (plan is null)
            {
                continue;
            }

            var context = ResilienceContextPool.Shared.Get(call.Total.Token);
            context.Properties.Set(RouterState.CallKey, call);
            try
            {
                var result = await _state.GetPipeline(plan.Provider).ExecuteAsync(
                    static (ctx, s) => s.attempt(s.router, ctx, s.plan, s.call),
                    context,
                    (attempt, router: this, plan, call));
                call.SuccessReservation = plan.Reservation;
                return (result, plan);
            }
            catch (Exception ex) when (!call.CallerToken.IsCancellationRequested)
            {
                HandleFailure(call, plan, ex);

                // Moving on: a failed attempt was not billed, and its reservation must not keep the next candidate out of the budget.
                if (plan.Reservation is { } reservation)
                {
                    _budget?.Settle(reservation, 0);
                }
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        throw Exhausted(call);
    }

    /// <summary>Gets the call's candidates under the names the registry uses, without repeats: <c>gemini</c> in <c>fallbacks</c> is <c>google</c>, with one cooldown and one circuit.</summary>
    private List<RouteCandidate> CanonicalCandidates(RouterCall call)
    {
        var candidates = new List<RouteCandidate>();
        foreach (var candidate in _state.Config.CandidatesFor(call.Role, call.Primary))
        {
            var canonical = candidate with { Provider = _clients.CanonicalName(candidate.Provider) };
            if (!candidates.Any(c => string.Equals(c.Provider, canonical.Provider, StringComparison.OrdinalIgnoreCase) && string.Equals(c.Model, canonical.Model, StringComparison.Ordinal)))
            {
                candidates.Add(canonical);
            }
        }

        return candidates;
    }

    /// <summary>Works out how to send the call to a candidate, or returns <see langword="null"/> (and records why) when it must be skipped.</summary>
    private async ValueTask<RoutePlan?> PlanAsync(RouterCall call, RouteCandidate candidate, bool first)
    {
        if (_state.Cooldowns.TryGet(candidate.Provider, out var cooldown))
        {
            call.AddAttempt(new RouterAttempt(
                candidate.Provider,
                candidate.Model,
                ErrorKindNames.Cooldown,
                $"{candidate.Provider} is cooling down until {cooldown.Until.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC after {cooldown.Reason}.",
                null,
                0));
            return null;
        }

        IChatClient client;
        string? model;
        try
        {
            client = _clients.GetClient(candidate.Provider, candidate.Model);
            model = candidate.Model ?? (client.GetService(typeof(ChatClientMetadata)) as ChatClientMetadata)?.DefaultModelId;
        }
#pragma warning disable CA1031 // a provider that cannot be created is skipped like one that fails
        catch (Exception ex)
#pragma warning restore CA1031
        {
            call.LastFailure ??= ex;
            call.AddAttempt(new RouterAttempt(candidate.Provider, candidate.Model, ErrorKindNames.Unavailable, ex.Message, null, 0));
            return null;
        }

        var price = model is null ? _prices.Find(candidate.Provider, null) : _prices.Find(candidate.Provider, model);
        if (call.ContextLimited && !FitsLargerContext(call, candidate, model, price))
        {
            call.AddAttempt(new RouterAttempt(
                candidate.Provider,
                model,
                ErrorKindNames.ContextWindowTooSmall,
                call.MinimumContextWindow is { } window
                    ? $"Skipped: its context window is not known to be larger than {window:N0} tokens."
                    : "Skipped: the same model already failed with a context-length error.",
                null,
                0));
            return null;
        }

        BudgetReservation? reservation = null;
        if (_budget is not null)
        {
            var estimate = CostCalculator.Estimate(price, call.EstimatedInputTokens, call.EstimatedOutputTokens);
            try
            {
                reservation = await _budget.ReserveAsync(call.SessionId, estimate, new RouteCandidate(candidate.Provider, model).ToString(), call.CallerToken);
                call.Reservations.Add(reservation);
            }
            catch (BudgetExceededException ex) when (!first)
            {
                call.BudgetRefusal ??= ex;
                call.AddAttempt(new RouterAttempt(candidate.Provider, model, ErrorKindNames.BudgetExceeded, ex.Message, null, 0));
                return null;
            }
        }

        var isPrimary = candidate == call.Primary;
        return new RoutePlan(
            candidate,
            client,
            model,
            price,
            HistoryRewriter.Rewrite(call.Messages, candidate.Provider, _primary.Provider),
            OptionsFor(call.ChatOptions, isPrimary ? candidate.Model ?? call.ChatOptions?.ModelId : candidate.Model),
            _state.Config.ForProvider(candidate.Provider),
            reservation);
    }

    private static bool FitsLargerContext(RouterCall call, RouteCandidate candidate, string? model, PriceEntry? price)
    {
        if (call.MinimumContextWindow is { } minimum)
        {
            return price?.ContextWindow is { } window && window > minimum;
        }

        // The failing model's window is unknown: any other model may be larger, the same one is not.
        return call.ContextFailedCandidate is not { } failed ||
               !string.Equals(failed.Provider, candidate.Provider, StringComparison.OrdinalIgnoreCase) ||
               !string.Equals(failed.Model, model, StringComparison.Ordinal);
    }

    /// <summary>Clones the caller's options for one candidate: its model, and no <c>ally.*</c> entries (protocol clients may pass extras on to the provider).</summary>
    private static ChatOptions OptionsFor(ChatOptions? options, string? model)
    {
        var clone = options?.Clone() ?? new ChatOptions();
        clone.ModelId = model;
        if (clone.AdditionalProperties is { } properties && properties.Keys.Any(IsAllyKey))
        {
            var kept = new AdditionalPropertiesDictionary();
            foreach (var (key, value) in properties)
            {
                if (!IsAllyKey(key))
                {
                    kept[key] = value;
                }
            }

            clone.AdditionalProperties = kept.Count > 0 ? kept : null;
        }

        return clone;
    }

    private static bool IsAllyKey(string key) => key.StartsWith("ally.", StringComparison.Ordinal);

    private decimal? EstimateCost(RouteCandidate candidate, RouterCall call)
    {
        var model = candidate.Model;
        if (model is null)
        {
            try
            {
                model = (_clients.GetClient(candidate.Provider, null).GetService(typeof(ChatClientMetadata)) as ChatClientMetadata)?.DefaultModelId;
            }
#pragma warning disable CA1031 // an unavailable provider has an unknown cost; PlanAsync reports why
            catch (Exception)
#pragma warning restore CA1031
            {
                return null;
            }
        }

        return CostCalculator.Estimate(_prices.Find(candidate.Provider, model), call.EstimatedInputTokens, call.EstimatedOutputTokens);
    }

    /// <summary>One non-streamed attempt, run inside the provider's retry and circuit-breaker pipeline.</summary>
    private async ValueTask<ChatResponse> AttemptAsync(ResilienceContext context, RoutePlan plan, RouterCall call)
    {
        using var lease = await AcquireRateLimitAsync(plan, call, context.CancellationToken);
        var started = _timeProvider.GetTimestamp();
        using var scope = new TimeoutScope(context.CancellationToken, plan.ProviderOptions.Timeout, plan.TimeoutKey, _timeProvider);
        call.Sent = true;
        try
        {
            var response = await plan.Client.GetResponseAsync(plan.Messages, plan.Options, scope.Token).WaitAsync(scope.Token);
            var elapsed = _timeProvider.GetElapsedTime(started);
            call.AddAttempt(new RouterAttempt(plan.Provider, response.ModelId ?? plan.Model, null, null, null, (long)elapsed.TotalMilliseconds));

            // This attempt's own time, not the call's: time lost at candidates that failed first is not this one's.
            _state.Latency.Record(plan.Candidate.ToString(), null, elapsed);
            return response;
        }
        catch (Exception ex)
        {
            var failure = Normalise(ex, plan, call, scope, piece: null);
            call.AddAttempt(AttemptOf(plan, failure, ElapsedMs(started)));
            if (ReferenceEquals(failure, ex))
            {
                throw;
            }

            throw failure;
        }
    }

    private async ValueTask<IDisposable?> AcquireRateLimitAsync(RoutePlan plan, RouterCall call, CancellationToken cancellationToken)
    {
        if (_state.GetLimiter(plan.Provider) is not { } limiter)
        {
            return null;
        }

        var maxWait = call.Remaining < call.Options.MaxRetryWait ? call.Remaining : call.Options.MaxRetryWait;
        var started = _timeProvider.GetTimestamp();
        var lease = await limiter.AcquireAsync(call.EstimatedInputTokens + call.EstimatedOutputTokens, maxWait, cancellationToken);
        if (lease is null)
        {
            var message = $"{plan.Provider} is at the rpm/tpm limit set in config.json ({plan.ConfigPrefix}), and waiting for it would take longer than allowed.";
            call.AddAttempt(new RouterAttempt(plan.Provider, plan.Model, ErrorKindNames.LocalRateLimit, message, null, ElapsedMs(started)));
            throw new RouterSkipException(message);
        }

        return lease;
    }

    /// <summary>Turns whatever an attempt threw into what the router handles: a <see cref="ProviderException"/>, or cancellation of the call.</summary>
    private static Exception Normalise(Exception exception, RoutePlan plan, RouterCall call, TimeoutScope? attempt, TimeoutScope? piece)
    {
        if (exception is OperationCanceledException)
        {
            if (call.CallerToken.IsCancellationRequested || call.Total.Fired is not null)
            {
                return exception;
            }

            if (piece?.Fired is { } pieceTimeout)
            {
                var what = pieceTimeout.Contains("first_token", StringComparison.Ordinal) ? "its first piece" : "its next piece";
                return new ProviderException(
                    ProviderErrorKind.Timeout,
                    $"{plan.Provider} did not send {what} within {Seconds(piece.Timeout)} ({pieceTimeout}).",
                    plan.Provider,
                    innerException: exception);
            }

            if (attempt?.Fired is { } attemptTimeout)
            {
                return new ProviderException(
                    ProviderErrorKind.Timeout,
                    $"{plan.Provider} did not answer within {Seconds(attempt.Timeout)} ({attemptTimeout}).",
                    plan.Provider,
                    innerException: exception);
            }

            // The client's own timeout (HttpClient.Timeout) surfaces as a cancellation nobody asked for.
            return new ProviderException(ProviderErrorKind.Timeout, $"{plan.Provider} did not answer in time.", plan.Provider, innerException: exception);
        }

        return exception switch
        {
            ProviderException => exception,
            RouterSkipException => exception,
            BrokenCircuitException => exception,
            HttpRequestException http => new ProviderException(ProviderErrorKind.Network, $"Could not reach {plan.Provider}: {http.Message}", plan.Provider, innerException: http),
            TimeoutException timeout => new ProviderException(ProviderErrorKind.Timeout, $"{plan.Provider} did not answer in time: {timeout.Message}", plan.Provider, innerException: timeout),
            _ => new ProviderException(ProviderErrorKind.Unknown, $"{plan.Provider} failed: {exception.Message}", plan.Provider, innerException: exception),
        };
    }

    private static RouterAttempt AttemptOf(RoutePlan plan, Exception failure, long latencyMs) => failure switch
    {
        ProviderException p => new RouterAttempt(plan.Provider, plan.Model, ErrorKindNames.Of(p.Kind), p.Message, null, latencyMs) { StatusCode = p.StatusCode },
        OperationCanceledException => new RouterAttempt(plan.Provider, plan.Model, ErrorKindNames.Of(ProviderErrorKind.Timeout), "The call ran out of time (router.timeout_seconds).", null, latencyMs),
        _ => new RouterAttempt(plan.Provider, plan.Model, ErrorKindNames.Of(ProviderErrorKind.Unknown), failure.Message, null, latencyMs),
    };

    /// <summary>Decides what a failure at one candidate means for the call: move on (return) or end it (throw).</summary>
    private void HandleFailure(RouterCall call, RoutePlan plan, Exception exception)
    {
        switch (exception)
        {
            case OperationCanceledException when call.Total.Fired is not null:
                throw call.Attach(new ProviderException(
                    ProviderErrorKind.Timeout,
                    $"The call took longer than router.timeout_seconds ({Seconds(call.Options.Timeout)}).",
                    plan.Provider,
                    innerException: exception));

            case BrokenCircuitException:
                call.AddAttempt(new RouterAttempt(plan.Provider, plan.Model, ErrorKindNames.Cooldown, $"{plan.Provider} is cooling down after repeated failures.", null, 0));
                return;

            case RouterSkipException:
                return;

            case ProviderException failure:
                call.LastFailure = failure;
                switch (failure.Kind)
                {
                    case ProviderErrorKind.Authentication or ProviderErrorKind.QuotaExceeded:
                        _state.Cooldowns.Enter(plan.Provider, ErrorKindNames.Of(failure.Kind), call.Options.Cooldown);
                        return;

                    case ProviderErrorKind.RateLimit:
                        var wait = failure.RetryAfter is { } retryAfter && retryAfter > call.Options.Cooldown ? retryAfter : call.Options.Cooldown;
                        _state.Cooldowns.Enter(plan.Provider, ErrorKindNames.Of(failure.Kind), wait);
                        return;

                    case ProviderErrorKind.NotFound when plan.Candidate != call.Primary:
                        // A fallback's provider or model came from config.json, not from the caller: one that does not
                        // exist there is the chain's mistake, and the next candidate may well have it (LiteLLM and
                        // Portkey fall back on a 404 too). No cooldown: the provider itself is fine.
                        return;

                    case ProviderErrorKind.InvalidRequest or ProviderErrorKind.NotFound or ProviderErrorKind.ContentFilter:
                        // The caller's mistake: another provider would refuse it too.
                        call.Attach(failure);
                        ExceptionDispatchInfo.Throw(failure);
                        return;

                    case ProviderErrorKind.ContextLengthExceeded:
                        call.ContextLimited = true;
                        call.ContextFailedCandidate = new RouteCandidate(plan.Provider, plan.Model);
                        if (plan.Price?.ContextWindow is { } window && (call.MinimumContextWindow is null || window > call.MinimumContextWindow))
                        {
                            call.MinimumContextWindow = window;
                        }

                        return;

                    default:
                        return;
                }

            default:
                call.LastFailure = exception;
                return;
        }
    }

    /// <summary>Builds the exception for a call no candidate could answer.</summary>
    private Exception Exhausted(RouterCall call)
    {
        if (call.LastFailure is { } last)
        {
            return call.Attach(last);
        }

        if (call.BudgetRefusal is { } refusal)
        {
            return call.Attach(refusal);
        }

        var skipped = call.Attempts.Where(a => a.Error == ErrorKindNames.Cooldown).Select(a => a.Provider).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var cooling = _state.Cooldowns.Snapshot().Where(c => skipped.Contains(c.Provider)).ToList();
        if (cooling.Count > 0)
        {
            var soonest = cooling[0];
            var list = string.Join(", ", cooling.Select(c => $"{c.Provider} until {c.Until.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC ({c.Reason})"));
            var kind = soonest.Reason == ErrorKindNames.Of(ProviderErrorKind.RateLimit) ? ProviderErrorKind.RateLimit : ProviderErrorKind.Overloaded;
            return call.Attach(new ProviderException(kind, $"Every provider for this call is cooling down: {list}.", soonest.Provider, retryAfter: soonest.Until - _timeProvider.GetUtcNow()));
        }

        return call.Attach(new ProviderException(ProviderErrorKind.Unknown, "No provider could take the call."));
    }

    private ChatResponse Complete(RouterCall call, RoutePlan plan, ChatResponse response)
    {
        var model = response.ModelId ?? plan.Model;
        var price = response.ModelId is { } reported ? _prices.Find(plan.Provider, reported) ?? plan.Price : plan.Price;
        var cost = CostCalculator.Compute(price, response.Usage);
        call.Provider = plan.Provider;
        call.Model = model;
        call.Usage = response.Usage;
        call.Cost = cost;
        call.Outcome = "ok";

        response.AdditionalProperties ??= [];
        Decorate(response.AdditionalProperties, call);
        foreach (var message in response.Messages)
        {
            message.AdditionalProperties ??= [];
            message.AdditionalProperties[HistoryRewriter.SourceKey] = plan.Provider;
        }

        return response;
    }

    private static void Decorate(AdditionalPropertiesDictionary properties, RouterCall call)
    {
        properties[RouterAttempts.ProviderKey] = call.Provider;
        properties[RouterAttempts.ModelKey] = call.Model;
        properties[RouterAttempts.CostKey] = call.Cost;
        properties[RouterAttempts.Key] = call.Attempts;
    }

    private static void NoteFailure(RouterCall call, Exception exception)
    {
        if (call.Outcome is not null)
        {
            return;
        }

        call.Outcome = exception switch
        {
            OperationCanceledException when call.CallerToken.IsCancellationRequested => ErrorKindNames.Cancelled,
            ProviderException p => ErrorKindNames.Of(p.Kind),
            BudgetExceededException => ErrorKindNames.BudgetExceeded,
            _ => ErrorKindNames.Of(ProviderErrorKind.Unknown),
        };
        if (exception is not OperationCanceledException || !call.CallerToken.IsCancellationRequested)
        {
            call.Attach(exception);
        }
    }

    /// <summary>Records the call in the usage store, then settles its budget reservations with the real cost.</summary>
    private async Task FinishAsync(RouterCall call)
    {
        try
        {
            if (call.Sent && _usage is not null)
            {
                var attempts = call.Attempts;
                var usage = call.Usage;
                await _usage.RecordAsync(
                    new UsageRecord
                    {
                        Time = call.StartedAt,
                        SessionId = call.SessionId,
                        Role = call.Role,
                        Provider = call.Provider ?? attempts.LastOrDefault(a => a.Error is not ErrorKindNames.Cooldown)?.Provider ?? call.Primary.Provider,
                        Model = call.Model ?? attempts.LastOrDefault()?.Model ?? call.Primary.Model,
                        InputTokens = usage?.InputTokenCount,
                        OutputTokens = usage?.OutputTokenCount,
                        TotalTokens = usage?.TotalTokenCount,
                        CachedInputTokens = usage?.CachedInputTokenCount,
                        ReasoningTokens = usage?.ReasoningTokenCount,
                        // A failed call with no reported usage was not billed; a broken stream was, for an unknown amount.
                        CostUsd = call.Outcome == "ok" || usage is not null ? call.Cost : call.Outcome == ErrorKindNames.Of(ProviderErrorKind.TruncatedStream) ? null : 0m,
                        LatencyMs = (long)call.Elapsed.TotalMilliseconds,
                        TimeToFirstTokenMs = call.TimeToFirstToken is { } ttft ? (long)ttft.TotalMilliseconds : null,
                        Outcome = call.Outcome ?? (call.CallerToken.IsCancellationRequested ? ErrorKindNames.Cancelled : "ok"),
                        AttemptsJson = RouterAttempts.ToJson(attempts),
                    },
                    CancellationToken.None);
            }
        }
#pragma warning disable CA1031 // usage accounting must never turn an answer into a failure
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            if (_budget is not null)
            {
                foreach (var reservation in call.Reservations)
                {
                    _budget.Settle(reservation, ReferenceEquals(reservation, call.SuccessReservation) ? call.Cost : 0);
                }
            }
        }
    }

    private long ElapsedMs(long started) => (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;

    private static string Seconds(TimeSpan? value) =>
        value is { } v ? v.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "the allowed time";
}
