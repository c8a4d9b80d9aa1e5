namespace Ally.Host.Usage;

/// <summary>Money set aside for one call in flight, until <see cref="BudgetGuard.Settle"/> replaces it with the real cost.</summary>
internal sealed class BudgetReservation
{
    internal BudgetReservation(string sessionKey, DateOnly day, decimal amount)
    {
        SessionKey = sessionKey;
        Day = day;
        Amount = amount;
    }

    internal string SessionKey { get; }

    internal DateOnly Day { get; }

    /// <summary>Gets the estimate that was reserved.</summary>
    public decimal Amount { get; }

    internal bool Settled { get; set; }
}
