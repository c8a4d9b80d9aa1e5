namespace Ally.Host.Gateway;

/// <summary>Answers <c>GET /api/usage</c>; the SQLite usage store implements it once it exists.</summary>
internal interface IUsageReportSource
{
    /// <summary>Summarises the calls since <paramref name="since"/> (all kept calls when null), with the latest <paramref name="recent"/> calls.</summary>
    UsageReport GetReport(DateTimeOffset? since, int recent);
}
