using Ally.Host.Configuration;
using Ally.Host.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ally.Host.Gateway;

/// <summary>What the gateway is built from. Leave <see cref="Clients"/> and the usage members null for today's defaults.</summary>
internal sealed record GatewayServices
{
    public required ProviderRegistry Registry { get; init; }

    public SecretRedactor Redactor { get; init; } = SecretRedactor.None;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the seam for the router; null uses <see cref="RegistryClientFactory"/>.</summary>
    public IGatewayClientFactory? Clients { get; init; }

    /// <summary>Gets where calls are recorded; null uses an <see cref="InMemoryUsageRecorder"/>.</summary>
    public IGatewayUsageSink? Usage { get; init; }

    /// <summary>Gets what answers <c>GET /api/usage</c>; null uses the in-memory recorder (or <see cref="Usage"/> when it is one).</summary>
    public IUsageReportSource? UsageReport { get; init; }

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
