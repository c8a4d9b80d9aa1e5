namespace Ally.Host.Usage;

/// <summary>One group of calls in a usage report.</summary>
/// <param name="Key">The provider, <c>provider/model</c>, UTC day (<c>yyyy-MM-dd</c>) or role.</param>
/// <param name="CostUsd">The sum of the known costs, or <see langword="null"/> when no call in the group has a known cost.</param>
/// <param name="UnknownCostCalls">How many calls have no known cost (their model has no price).</param>
internal sealed record UsageReportRow(
    string Key,
    long Calls,
    long InputTokens,
    long OutputTokens,
    decimal? CostUsd,
    long UnknownCostCalls);
