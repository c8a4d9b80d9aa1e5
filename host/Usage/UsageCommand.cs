using Ally.Host.Configuration;

namespace Ally.Host.Usage;

/// <summary>The body of <c>ally usage [--since DATE] [--by provider|model|day|role] [--json]</c>.</summary>
internal static class UsageCommand
{
    public const string DefaultGrouping = "provider";

    /// <summary>Prints the usage report and returns the exit code.</summary>
    /// <exception cref="ConfigException">When <paramref name="by"/> is not one of provider, model, day, role.</exception>
    public static async Task<int> RunAsync(
        UsageStore store,
        DateTimeOffset? since,
        string by,
        bool json,
        TextWriter output,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(output);
        var grouping = ParseGrouping(by);
        var report = await UsageReport.BuildAsync(store, since, grouping, cancellationToken);
        if (json)
        {
            report.WriteJson(output);
        }
        else
        {
            report.WriteText(output);
        }

        return 0;
    }

    public static UsageGrouping ParseGrouping(string? by) => (by ?? DefaultGrouping).Trim().ToLowerInvariant() switch
    {
        "provider" => UsageGrouping.Provider,
        "model" => UsageGrouping.Model,
        "day" => UsageGrouping.Day,
        "role" => UsageGrouping.Role,
        _ => throw new ConfigException($"--by must be one of provider, model, day, role (got '{by}')."),
    };
}
