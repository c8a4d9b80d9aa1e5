namespace Ally.Host.Sessions;

/// <summary>One row of <c>ally sessions</c>.</summary>
internal sealed record SessionSummary(
    string Id,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    string Role,
    string Provider,
    string? Model,
    string Directory,
    string? FirstPrompt,
    int Turns,
    decimal CostUsd,
    int UnknownCostTurns);
