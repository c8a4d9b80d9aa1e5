namespace Ally.Host.Usage;

/// <summary>Refuses calls that could take spending past <c>budget.session_usd</c> or <c>budget.daily_usd</c>.</summary>
/// <remarks>
/// Concurrent calls cannot overspend together: each call reserves its estimated cost under a lock before it is
/// sent, and the check counts what is spent plus what is reserved by calls in flight. After the call the
/// reservation is settled with the real cost. The day's spending comes from the usage store (all Ally processes
/// write there); the caller records the call in the store before settling, so a settled call is never counted
/// twice nor missed. Without a store the guard counts in memory. Thread-safe.
/// </remarks>
internal sealed class BudgetGuard : IDisposable
{
    public const string SessionKey = "budget.session_usd";
    public const string DailyKey = "budget.daily_usd";

    private readonly BudgetOptions _options;
    private readonly UsageStore? _store;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, decimal> _sessionSpent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, decimal> _sessionReserved = new(StringComparer.Ordinal);
    private readonly Dictionary<DateOnly, decimal> _dailySpentInMemory = [];
    private readonly Dictionary<DateOnly, decimal> _dailyReserved = [];

    public BudgetGuard(BudgetOptions options, UsageStore? store = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _store = store;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public BudgetOptions Options => _options;

    /// <summary>Reserves <paramref name="estimate"/> for a call, or refuses it.</summary>
    /// <param name="sessionId">The session the call belongs to; <see langword="null"/> is the process's own session.</param>
    /// <param name="estimate">The most the call is expected to cost; <see langword="null"/> when its price is unknown (allowed: it cannot be priced).</param>
    /// <param name="target">What is called, for the message (<c>openai/gpt-4o</c>).</param>
    /// <exception cref="BudgetExceededException">When spent plus reserved plus the estimate would pass a budget.</exception>
    public async Task<BudgetReservation> ReserveAsync(string? sessionId, decimal? estimate, string target, CancellationToken cancellationToken = default)
    {
        var session = sessionId ?? string.Empty;
        var now = _timeProvider.GetUtcNow();
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        var amount = Math.Max(0, estimate ?? 0);
        if (!_options.IsLimited)
        {
            return new BudgetReservation(session, day, 0);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_options.SessionUsd is { } sessionLimit)
            {
                var committed = _sessionSpent.GetValueOrDefault(session) + _sessionReserved.GetValueOrDefault(session);
                if (committed + amount > sessionLimit)
                {
                    throw new BudgetExceededException(SessionKey, sessionLimit, committed, amount, target);
                }
            }

            if (_options.DailyUsd is { } dailyLimit)
            {
                var committed = await GetDailySpentAsync(day, cancellationToken) + _dailyReserved.GetValueOrDefault(day);
                if (committed + amount > dailyLimit)
                {
                    throw new BudgetExceededException(DailyKey, dailyLimit, committed, amount, target);
                }
            }

            _sessionReserved[session] = _sessionReserved.GetValueOrDefault(session) + amount;
            _dailyReserved[day] = _dailyReserved.GetValueOrDefault(day) + amount;
            return new BudgetReservation(session, day, amount);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Replaces a reservation with what the call really cost. Call it after the call is in the usage store.</summary>
    public void Settle(BudgetReservation reservation, decimal? actualCost)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        _gate.Wait();
        try
        {
            if (reservation.Settled)
            {
                return;
            }

            reservation.Settled = true;
            var actual = Math.Max(0, actualCost ?? 0);
            _sessionReserved[reservation.SessionKey] = _sessionReserved.GetValueOrDefault(reservation.SessionKey) - reservation.Amount;
            _dailyReserved[reservation.Day] = _dailyReserved.GetValueOrDefault(reservation.Day) - reservation.Amount;
            _sessionSpent[reservation.SessionKey] = _sessionSpent.GetValueOrDefault(reservation.SessionKey) + actual;
            if (_store is null)
            {
                _dailySpentInMemory[reservation.Day] = _dailySpentInMemory.GetValueOrDefault(reservation.Day) + actual;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Gets what a session has spent so far (settled calls only).</summary>
    public decimal GetSessionSpent(string? sessionId)
    {
        _gate.Wait();
        try
        {
            return _sessionSpent.GetValueOrDefault(sessionId ?? string.Empty);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<decimal> GetDailySpentAsync(DateOnly day, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return _dailySpentInMemory.GetValueOrDefault(day);
        }

        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return await _store.GetSpendAsync(start, start.AddDays(1), cancellationToken);
    }
}
