namespace Ally.Host.Routing;

/// <summary>A provider the router skips until <paramref name="Until"/>, as <c>ally health</c> shows it.</summary>
/// <param name="Provider">The provider cooling down.</param>
/// <param name="Reason">Why, in snake_case: <c>rate_limit</c>, <c>authentication</c>, <c>quota_exceeded</c>, or <c>repeated_failures</c>.</param>
/// <param name="Until">When the router tries it again.</param>
internal sealed record CooldownInfo(string Provider, string Reason, DateTimeOffset Until);
