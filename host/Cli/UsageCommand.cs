using System.CommandLine;
using System.Globalization;
using Ally.Host.Configuration;
using Ally.Host.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Cli;

/// <summary>The body of <c>ally usage [--since DATE] [--by provider|model|day|role] [--json]</c>.</summary>
internal static class UsageCommand
{
    public const string DefaultGrouping = "provider";

    public static Command Create(AllyCommandLine cli)
    {
        var since = new Option<string?>("--since") { Description = "Only calls from this date on (YYYY-MM-DD, UTC) or this many days back (7d)." };
        var by = new Option<string>("--by") { Description = "Group by provider, model, day or role.", DefaultValueFactory = _ => DefaultGrouping };
        by.AcceptOnlyFromAmong("provider", "model", "day", "role");
        var command = new Command("usage", "Report recorded calls: tokens and cost.") { since, by };
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, context =>
        {
            var time = context.Services.GetRequiredService<TimeProvider>();
            return RunAsync(
                context.Services.GetRequiredService<UsageStore>(),
                ParseSince(parseResult.GetValue(since), time.GetUtcNow()),
                parseResult.GetValue(by) ?? DefaultGrouping,
                context.Json,
                context.Streams.Output,
                cancellationToken);
        }));
        return command;
    }

    /// <summary>Reads <c>--since</c>: a date (UTC midnight) or a number of days back such as <c>7d</c>.</summary>
    public static DateTimeOffset? ParseSince(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        if (value.EndsWith('d') && int.TryParse(value[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var days))
        {
            return now.UtcDateTime.Date.AddDays(-days);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : throw new ConfigException($"--since is '{value}'; give a date such as 2026-11-01 or a number of days such as 7d.");
    }

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
