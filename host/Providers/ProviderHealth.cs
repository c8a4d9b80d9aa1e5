namespace Ally.Host.Providers;

/// <summary>The result of one provider's health check.</summary>
/// <param name="Provider">The provider's name.</param>
/// <param name="Status"><c>up</c>, <c>down</c>, <c>not-ready</c> (keys or config missing) or <c>unknown</c> (no cheap check).</param>
/// <param name="LatencyMs">How long the check took, when it ran.</param>
/// <param name="ErrorKind">The error kind when the check failed.</param>
/// <param name="Message">What failed, or why the check did not run.</param>
internal sealed record ProviderHealth(string Provider, string Status, double? LatencyMs, string? ErrorKind, string? Message)
{
    public const string Up = "up";
    public const string Down = "down";
    public const string NotReady = "not-ready";
    public const string Unknown = "unknown";
}
