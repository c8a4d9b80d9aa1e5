using Ally.Host.Configuration;
using Ally.Host.Providers;
using Ally.Host.Usage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ally.Host.Gateway;

/// <summary>What the gateway is built from.</summary>
internal sealed record GatewayServices
{
    public required ProviderRegistry Registry { get; init; }

    /// <summary>Gets where chat clients come from: in <c>ally serve</c>, the router (<see cref="RouterClientFactory"/>), which also records usage.</summary>
    public required IGatewayClientFactory Clients { get; init; }

    /// <summary>Gets the store <c>GET /api/usage</c> reads (the one the router writes to); null answers that usage is not recorded.</summary>
    public UsageStore? Usage { get; init; }

    public SecretRedactor Redactor { get; init; } = SecretRedactor.None;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
