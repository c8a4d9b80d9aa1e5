namespace Ally.Host.Gateway;

/// <summary>What <c>GET /api/usage</c> returns: totals per provider and model, and the latest calls.</summary>
internal sealed record UsageReport(string Source, DateTimeOffset? Since, IReadOnlyList<UsageReportRow> Rows, IReadOnlyList<GatewayCallRecord> Recent);
