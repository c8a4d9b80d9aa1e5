using Ally.Host.Configuration;

namespace Ally.Host.Agent.Tools;

/// <summary>config.json's <c>tools</c> section.</summary>
internal sealed record ToolSettings
{
    public const int DefaultMaxIterations = 20;

    /// <summary>Gets <c>tools.allow</c>: the tools that run without asking. Default: the read-only tools.</summary>
    public IReadOnlyList<string> Allow { get; init; } = AgentTools.ReadOnly;

    /// <summary>Gets <c>tools.max_iterations</c>: model calls per turn before the loop stops, 1 to 1000, default 20.</summary>
    public int MaxIterations { get; init; } = DefaultMaxIterations;

    /// <summary>Reads the section; a wrong value is a <see cref="ConfigException"/> naming the key.</summary>
    public static ToolSettings From(AllyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Root.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return new ToolSettings();
        }

        var reader = new ConfigReader(config.DisplayPath, config.Root);
        if (reader.GetObject("tools") is not { } tools)
        {
            return new ToolSettings();
        }

        var allow = tools.GetStringList("allow") ?? AgentTools.ReadOnly;
        if (allow.FirstOrDefault(name => !AgentTools.Names.Contains(name, StringComparer.Ordinal)) is { } unknown)
        {
            throw new ConfigException($"{config.DisplayPath}: 'tools.allow' names '{unknown}', which is not a tool; the tools are {string.Join(", ", AgentTools.Names)}.");
        }

        return new ToolSettings
        {
            Allow = allow,
            MaxIterations = tools.GetInt("max_iterations", 1, 1000) ?? DefaultMaxIterations,
        };
    }
}
