namespace Ally.Host.Gateway;

/// <summary>The totals of one provider and model in a <see cref="UsageReport"/>.</summary>
internal sealed record UsageReportRow(
    string Provider,
    string Model,
    long Requests,
    long Errors,
    long Cancelled,
    long InputTokens,
    long OutputTokens,
    long CachedInputTokens,
    long ReasoningTokens,
    double AverageLatencyMs,
    decimal CostUsd);
