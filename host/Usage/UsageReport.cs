using System.Globalization;
using System.Text.Json;

namespace Ally.Host.Usage;

/// <summary>What <c>ally usage</c> prints: calls grouped by provider, model, day or role, with a total.</summary>
internal sealed class UsageReport
{
    private UsageReport(DateTimeOffset? since, UsageGrouping by, IReadOnlyList<UsageReportRow> rows)
    {
        Since = since;
        By = by;
        Rows = rows;
        Total = new UsageReportRow(
            "total",
            rows.Sum(r => r.Calls),
            rows.Sum(r => r.InputTokens),
            rows.Sum(r => r.OutputTokens),
            rows.Any(r => r.CostUsd is not null) ? rows.Sum(r => r.CostUsd ?? 0) : null,
            rows.Sum(r => r.UnknownCostCalls));
    }

    public DateTimeOffset? Since { get; }

    public UsageGrouping By { get; }

    public IReadOnlyList<UsageReportRow> Rows { get; }

    public UsageReportRow Total { get; }

    public static async Task<UsageReport> BuildAsync(UsageStore store, DateTimeOffset? since, UsageGrouping by, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var rows = await store.QueryAsync(since, by, cancellationToken);
        return new UsageReport(since, by, rows);
    }

    public static string GroupingName(UsageGrouping by) => by.ToString().ToLowerInvariant();

    /// <summary>Writes <c>{"since","by","rows":[{"key","calls","input_tokens","output_tokens","cost_usd","unknown_cost_calls"}],"total":{...}}</c>.</summary>
    public void WriteJson(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            WriteJson(writer);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>
    /// Writes the report as <see cref="WriteJson(TextWriter)"/> does; with <paramref name="recent"/>, adds
    /// <c>"recent":[{"time","session_id","role","provider","model","input_tokens",…,"outcome","attempts"}]</c>.
    /// </summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="recent">The latest calls, newest first, or <see langword="null"/> to leave the list out.</param>
    /// <param name="redact">Applied to the attempts' provider messages before they are written.</param>
    public void WriteJson(Utf8JsonWriter writer, IReadOnlyList<UsageRecord>? recent = null, Func<string, string>? redact = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (Since is { } since)
        {
            writer.WriteString("since", since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNull("since");
        }

        writer.WriteString("by", GroupingName(By));
        writer.WriteStartArray("rows");
        foreach (var row in Rows)
        {
            WriteRow(writer, row, includeKey: true);
        }

        writer.WriteEndArray();
        writer.WritePropertyName("total");
        WriteRow(writer, Total, includeKey: false);
        if (recent is not null)
        {
            writer.WriteStartArray("recent");
            foreach (var record in recent)
            {
                WriteRecord(writer, record, redact);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes an aligned table; an unknown cost reads <c>unknown</c>, never <c>$0</c>.</summary>
    public void WriteText(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var title = Since is { } since
            ? $"Usage since {since.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC, by {GroupingName(By)}"
            : $"Usage, by {GroupingName(By)}";
        output.WriteLine(title);
        if (Rows.Count == 0)
        {
            output.WriteLine("No calls recorded.");
            return;
        }

        string[] header = [GroupingName(By).ToUpperInvariant(), "CALLS", "INPUT", "OUTPUT", "COST (USD)", "UNKNOWN COST"];
        var lines = new List<string[]> { header };
        lines.AddRange(Rows.Select(Cells));
        lines.Add(Cells(Total with { Key = "TOTAL" }));
        var widths = Enumerable.Range(0, header.Length).Select(i => lines.Max(l => l[i].Length)).ToArray();
        foreach (var line in lines)
        {
            var cells = line.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string[] Cells(UsageReportRow row) =>
    [
        row.Key,
        row.Calls.ToString("N0", CultureInfo.InvariantCulture),
        row.InputTokens.ToString("N0", CultureInfo.InvariantCulture),
        row.OutputTokens.ToString("N0", CultureInfo.InvariantCulture),
        row.CostUsd is { } cost ? "$" + cost.ToString("0.0000", CultureInfo.InvariantCulture) : "unknown",
        row.UnknownCostCalls.ToString("N0", CultureInfo.InvariantCulture),
    ];

    private static void WriteRow(Utf8JsonWriter writer, UsageReportRow row, bool includeKey)
    {
        writer.WriteStartObject();
        if (includeKey)
        {
            writer.WriteString("key", row.Key);
        }

        writer.WriteNumber("calls", row.Calls);
        writer.WriteNumber("input_tokens", row.InputTokens);
        writer.WriteNumber("output_tokens", row.OutputTokens);
        if (row.CostUsd is { } cost)
        {
            writer.WriteNumber("cost_usd", cost);
        }
        else
        {
            writer.WriteNull("cost_usd");
        }

        writer.WriteNumber("unknown_cost_calls", row.UnknownCostCalls);
        writer.WriteEndObject();
    }

    private static void WriteRecord(Utf8JsonWriter writer, UsageRecord record, Func<string, string>? redact)
    {
        writer.WriteStartObject();
        writer.WriteString("time", record.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        WriteStringOrNull(writer, "session_id", record.SessionId);
        WriteStringOrNull(writer, "role", record.Role);
        writer.WriteString("provider", record.Provider);
        WriteStringOrNull(writer, "model", record.Model);
        WriteNumberOrNull(writer, "input_tokens", record.InputTokens);
        WriteNumberOrNull(writer, "output_tokens", record.OutputTokens);
        WriteNumberOrNull(writer, "total_tokens", record.TotalTokens);
        WriteNumberOrNull(writer, "cached_input_tokens", record.CachedInputTokens);
        WriteNumberOrNull(writer, "reasoning_tokens", record.ReasoningTokens);
        if (record.CostUsd is { } cost)
        {
            writer.WriteNumber("cost_usd", cost);
        }
        else
        {
            writer.WriteNull("cost_usd");
        }

        writer.WriteNumber("latency_ms", record.LatencyMs);
        WriteNumberOrNull(writer, "ttft_ms", record.TimeToFirstTokenMs);
        writer.WriteString("outcome", record.Outcome);
        writer.WritePropertyName("attempts");
        if (record.AttemptsJson is { } attempts)
        {
            // Stored by RouterAttempts.ToJson, so it is JSON; masking a secret replaces text inside its strings only.
            writer.WriteRawValue(redact is null ? attempts : redact(attempts), skipInputValidation: false);
        }
        else
        {
            writer.WriteStartArray();
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
