using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Providers;
using Ally.Host.Sessions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Agent;

/// <summary>Everything the agent works with, composed once by the command that runs it.</summary>
internal sealed record AgentSetup
{
    /// <summary>Gets the only source of chat clients (the router plugs in here).</summary>
    public required IChatClientProvider Clients { get; init; }

    /// <summary>Gets the registry, for listings and statuses only; clients come from <see cref="Clients"/>.</summary>
    public required ProviderRegistry Registry { get; init; }

    public required ToolSettings ToolSettings { get; init; }

    public required IReadOnlyList<AIFunction> Tools { get; init; }

    public required ShellRunner Shell { get; init; }

    public required SessionStore Sessions { get; init; }

    /// <summary>Gets the usage store the router records every call in, for <c>/usage</c>'s daily totals.</summary>
    public Usage.UsageStore? Usage { get; init; }

    /// <summary>Gets the working folder the tools are confined to.</summary>
    public required string Directory { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public SecretRedactor Redactor { get; init; } = SecretRedactor.None;

    /// <summary>Gets <c>--allow-all-tools</c>.</summary>
    public bool AllowAllTools { get; init; }

    /// <summary>Gets a value indicating whether tools are offered at all (<c>--no-tools</c> turns them off).</summary>
    public bool ToolsEnabled { get; init; } = true;

    /// <summary>Gets a value indicating whether answers are streamed.</summary>
    public bool Stream { get; init; } = true;

    /// <summary>Gets where the log files are, for "details are in …" messages.</summary>
    public string? LogDirectory { get; init; }

    public AllyConfig Config => Registry.Config;

    /// <summary>Gets the model the provider uses when none is chosen, for display.</summary>
    public string? DefaultModel(string provider) =>
        Registry.Find(provider) is { } entry ? Registry.ResolveSettings(entry).Model : null;
}
