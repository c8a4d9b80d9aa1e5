namespace Ally.Host.Routing;

/// <summary>One try at one candidate, or one candidate skipped, as <c>ally -p --json</c> lists it in <c>attempts</c>.</summary>
/// <param name="Provider">The provider tried.</param>
/// <param name="Model">The model asked for, or <see langword="null"/> for the provider's default.</param>
/// <param name="Error">The failure kind in snake_case (<c>rate_limit</c>), or <see langword="null"/> when the attempt answered.</param>
/// <param name="Message">The provider's message, or why the router skipped the candidate.</param>
/// <param name="WaitSeconds">How long the router waited after this attempt before the next one, when it did.</param>
/// <param name="LatencyMs">How long the attempt took.</param>
internal sealed record RouterAttempt(
    string Provider,
    string? Model,
    string? Error,
    string? Message,
    double? WaitSeconds,
    long LatencyMs)
{
    public int? StatusCode { get; init; }
}
