namespace Ally.Host.Gateway;

/// <summary>The result of one cheap health check: <c>ok</c>, <c>error</c>, <c>timeout</c>, <c>not_ready</c> or <c>unchecked</c>.</summary>
internal sealed record ProviderHealth(string Provider, string Status, double? LatencyMs, string? ErrorKind, string? Message);
