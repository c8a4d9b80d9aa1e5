using Ally.Host.Tests.Fakes;
using Ally.Host.Cli;
using System.Text.Json;
using Ally.Host.Configuration;
using Ally.Host.Usage;

namespace Ally.Host.Tests.Usage;

public sealed class UsageReportTests
{
    private static readonly DateTimeOffset Day1 = new(2026, 7, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Day2 = new(2026, 7, 24, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("provider", "anthropic|openai")]
    [InlineData("model", "anthropic/claude-sonnet-4-5|openai/gpt-4o|openai/my-finetune")]
    [InlineData("day", "2026-07-23|2026-07-24")]
    [InlineData("role", "(none)|coder|general")]
    public async Task RunAsync_ByEachGrouping_GroupsTheCalls(string by, string keys)
    {
        // Given
        using var folder = new TempFolder();
        using var store = await SeedAsync(folder);
        using var output = new StringWriter();

        // When
        var exit = await UsageCommand.RunAsync(store, since: null, by, json: true, output, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(0, exit);
        using var document = JsonDocument.Parse(output.ToString());
        Assert.Equal(keys.Split('|'), document.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetString()));
        Assert.Equal(by, document.RootElement.GetProperty("by").GetString());
    }

    [Fact]
    public async Task RunAsync_Json_HasTotalsAndUnknownCostsAsNull()
    {
        // Given
        using var folder = new TempFolder();
        using var store = await SeedAsync(folder);
        using var output = new StringWriter();

        // When
        await UsageCommand.RunAsync(store, since: null, "model", json: true, output, TestContext.Current.CancellationToken);

        // Then
        using var document = JsonDocument.Parse(output.ToString());
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("since").ValueKind);
        var finetune = root.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == "openai/my-finetune");
        Assert.Equal(JsonValueKind.Null, finetune.GetProperty("cost_usd").ValueKind);
        Assert.Equal(1, finetune.GetProperty("unknown_cost_calls").GetInt32());
        var gpt = root.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == "openai/gpt-4o");
        Assert.Equal((2, 3000, 600, 0.03m), (gpt.GetProperty("calls").GetInt32(), gpt.GetProperty("input_tokens").GetInt32(), gpt.GetProperty("output_tokens").GetInt32(), gpt.GetProperty("cost_usd").GetDecimal()));
        var total = root.GetProperty("total");
        Assert.Equal((4, 0.05m, 1), (total.GetProperty("calls").GetInt32(), total.GetProperty("cost_usd").GetDecimal(), total.GetProperty("unknown_cost_calls").GetInt32()));
    }

    [Fact]
    public async Task RunAsync_Since_LeavesOutOlderCalls()
    {
        // Given
        using var folder = new TempFolder();
        using var store = await SeedAsync(folder);
        using var output = new StringWriter();

        // When
        await UsageCommand.RunAsync(store, new DateTimeOffset(Day2.Date, TimeSpan.Zero), "day", json: true, output, TestContext.Current.CancellationToken);

        // Then
        using var document = JsonDocument.Parse(output.ToString());
        Assert.Equal("2026-07-24T00:00:00Z", document.RootElement.GetProperty("since").GetString());
        Assert.Equal("2026-07-24", Assert.Single(document.RootElement.GetProperty("rows").EnumerateArray()).GetProperty("key").GetString());
    }

    [Fact]
    public async Task RunAsync_Text_ShowsAnAlignedTableWithUnknownCostsSpelledOut()
    {
        // Given
        using var folder = new TempFolder();
        using var store = await SeedAsync(folder);
        using var output = new StringWriter();

        // When
        await UsageCommand.RunAsync(store, since: null, "model", json: false, output, TestContext.Current.CancellationToken);

        // Then
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Usage, by model", lines[0]);
        Assert.StartsWith("MODEL", lines[1], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("openai/my-finetune", StringComparison.Ordinal) && l.Contains("unknown", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("TOTAL", StringComparison.Ordinal) && l.Contains("$0.0500", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_EmptyStore_SaysSo()
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        using var output = new StringWriter();

        // When
        await UsageCommand.RunAsync(store, since: null, "provider", json: false, output, TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("No calls recorded.", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnknownGrouping_IsAUsageError()
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));

        // When
        var thrown = await Assert.ThrowsAsync<ConfigException>(() => UsageCommand.RunAsync(store, null, "week", false, TextWriter.Null, TestContext.Current.CancellationToken));

        // Then
        Assert.Contains("--by must be one of provider, model, day, role", thrown.Message, StringComparison.Ordinal);
    }

    private static async Task<UsageStore> SeedAsync(TempFolder folder)
    {
        var store = new UsageStore(folder.Combine("ally.db"));
        UsageRecord[] records =
        [
            new() { Time = Day1, Provider = "openai", Model = "gpt-4o", Role = "general", InputTokens = 1000, OutputTokens = 200, CostUsd = 0.01m, Outcome = "ok" },
            new() { Time = Day2, Provider = "openai", Model = "gpt-4o", Role = "coder", InputTokens = 2000, OutputTokens = 400, CostUsd = 0.02m, Outcome = "ok" },
            new() { Time = Day2, Provider = "openai", Model = "my-finetune", Role = "coder", InputTokens = 10, OutputTokens = 10, CostUsd = null, Outcome = "ok" },
            new() { Time = Day2, Provider = "anthropic", Model = "claude-sonnet-4-5", InputTokens = 100, OutputTokens = 100, CostUsd = 0.02m, Outcome = "ok" },
        ];
        foreach (var record in records)
        {
            await store.RecordAsync(record, TestContext.Current.CancellationToken);
        }

        return store;
    }
}
