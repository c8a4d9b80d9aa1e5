namespace Ally.Host.Usage;

/// <summary>A call was refused before it was sent because it could take spending past a budget.</summary>
internal sealed class BudgetExceededException : Exception
{
    public BudgetExceededException()
        : base("The call would exceed the budget.")
    {
    }

    public BudgetExceededException(string message)
        : base(message)
    {
    }

    public BudgetExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public BudgetExceededException(string budgetKey, decimal limit, decimal committed, decimal estimate, string target)
        : base($"Refused a call to {target} before sending it: it could cost up to ${estimate:0.0000}, and {budgetKey} is " +
               $"${limit:0.00} with ${committed:0.0000} already spent or reserved. Raise {budgetKey} in config.json or wait.")
    {
        BudgetKey = budgetKey;
        Limit = limit;
        Committed = committed;
        Estimate = estimate;
    }

    /// <summary>Gets the config key of the budget that refused the call (<c>budget.session_usd</c> or <c>budget.daily_usd</c>).</summary>
    public string? BudgetKey { get; }

    public decimal Limit { get; }

    /// <summary>Gets what was already spent or reserved by calls in flight.</summary>
    public decimal Committed { get; }

    public decimal Estimate { get; }
}
