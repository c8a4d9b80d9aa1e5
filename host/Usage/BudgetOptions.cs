namespace Ally.Host.Usage;

/// <summary>config.json's <c>budget</c> section.</summary>
internal sealed record BudgetOptions
{
    /// <summary>Gets the most a session (one <c>ally</c> run, or one session id) may spend, in US dollars; <see langword="null"/> for no limit.</summary>
    public decimal? SessionUsd { get; init; }

    /// <summary>Gets the most all calls of one UTC day may spend together, in US dollars; <see langword="null"/> for no limit.</summary>
    public decimal? DailyUsd { get; init; }

    public bool IsLimited => SessionUsd is not null || DailyUsd is not null;
}
