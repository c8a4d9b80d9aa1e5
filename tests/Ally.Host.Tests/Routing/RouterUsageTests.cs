using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using Ally.Host.Tests.Usage;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterUsageTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_Answered_RecordsOneRowWithTokensCostLatencyAndAttempts(bool streamed)
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var time = new FakeTimeProvider();
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Authentication, status: 401));
        var b = new ScriptedProvider("b") { Usage = new() { InputTokenCount = 1000, OutputTokenCount = 200, TotalTokenCount = 1200, CachedInputTokenCount = 400, ReasoningTokenCount = 50 } };
        using var router = Create(new ScriptedProviderSource(a, b), time: time, usage: store, role: "general");
        var options = new ChatOptions { AdditionalProperties = new() { ["ally.session_id"] = "session-7" } };

        // When
        await AskAsync(router, streamed, options, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var row = Assert.Single(await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(time.GetUtcNow(), row.Time);
        Assert.Equal(("b", "m1", "general", "session-7", "ok"), (row.Provider, row.Model, row.Role, row.SessionId, row.Outcome));
        Assert.Equal((1000L, 200L, 1200L, 400L, 50L), (row.InputTokens!.Value, row.OutputTokens!.Value, row.TotalTokens!.Value, row.CachedInputTokens!.Value, row.ReasoningTokens!.Value));
        Assert.Equal((1000 * 3m + 200 * 6m) / 1_000_000m, row.CostUsd);
        Assert.Equal(streamed, row.TimeToFirstTokenMs is not null);
        using var attempts = JsonDocument.Parse(row.AttemptsJson!);
        Assert.Equal(["authentication", null], attempts.RootElement.EnumerateArray().Select(x => x.GetProperty("error").GetString()));
        Assert.Equal(401, attempts.RootElement[0].GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task GetResponse_UnpricedModel_RecordsUnknownCostNotZero()
    {
        // Given: d/m1 has no price
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        using var router = Create(new ScriptedProviderSource(new ScriptedProvider("d")), fallbacks: [], usage: store, primary: "d");

        // When
        var response = await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Null(response.AdditionalProperties![RouterAttempts.CostKey]);
        Assert.True(response.AdditionalProperties.ContainsKey(RouterAttempts.CostKey));
        Assert.Null(Assert.Single(await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken)).CostUsd);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_Failed_RecordsTheErrorKindAsOutcome(bool streamed)
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.InvalidRequest, status: 400));
        using var router = Create(new ScriptedProviderSource(a), usage: store);

        // When
        await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        var row = Assert.Single(await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(("a", "invalid_request", 0m), (row.Provider, row.Outcome, row.CostUsd));
    }

    [Fact]
    public async Task GetStreamingResponse_Truncated_RecordsTruncatedStreamWithUnknownCost()
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var a = new ScriptedProvider("a");
        a.FailAfterFirstPiece = a.Error(ProviderErrorKind.Network);
        using var router = Create(new ScriptedProviderSource(a), usage: store);

        // When
        await Assert.ThrowsAsync<ProviderException>(() => AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        var row = Assert.Single(await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("truncated_stream", row.Outcome);
        Assert.Null(row.CostUsd);
    }

    [Fact]
    public async Task EveryFailurePath_KeyNeverAppearsInExceptionsAttemptsOrTheDatabase()
    {
        // Given: providers whose settings hold a recognisable key, failing in every way
        const string Key = "sk-ally-test-SECRET-0123456789";
        using var folder = new TempFolder();
        var dbPath = folder.Combine("ally.db");
        var seen = new StringBuilder();
        var time = new FakeTimeProvider();
        ProviderErrorKind[] kinds =
        [
            ProviderErrorKind.Authentication, ProviderErrorKind.QuotaExceeded, ProviderErrorKind.RateLimit, ProviderErrorKind.Overloaded,
            ProviderErrorKind.ServerError, ProviderErrorKind.Network, ProviderErrorKind.InvalidRequest, ProviderErrorKind.ContextLengthExceeded,
            ProviderErrorKind.ContentFilter, ProviderErrorKind.NotFound, ProviderErrorKind.Timeout, ProviderErrorKind.TruncatedStream, ProviderErrorKind.Unknown,
        ];

        using (var store = new UsageStore(dbPath))
        {
            foreach (var kind in kinds)
            {
                foreach (var streamed in new[] { false, true })
                {
                    var settings = new ProviderSettings { Name = "a", ApiKey = Key };
                    var a = new ScriptedProvider(settings.Name);
                    a.Failing(a.Error(kind, TimeSpan.FromHours(1), 500), a.Error(kind, TimeSpan.FromHours(1), 500), a.Error(kind, TimeSpan.FromHours(1), 500));
                    var b = new ScriptedProvider("b");
                    b.FailAfterFirstPiece = b.Error(kind);
                    b.Failing(b.Error(kind), b.Error(kind), b.Error(kind));
                    using var router = Create(new ScriptedProviderSource(a, b), fallbacks: ["b"], usage: store, time: time, options: FastOptions with { RetryBaseDelay = TimeSpan.Zero });

                    try
                    {
                        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);
                        seen.Append(RouterAttempts.ToJson(Attempts(response)));
                    }
                    catch (Exception ex)
                    {
                        seen.Append(ex.ToString()).Append(RouterAttempts.ToJson(RouterAttempts.From(ex)));
                    }
                }
            }
        }

        // Then
        Assert.DoesNotContain(Key, seen.ToString(), StringComparison.Ordinal);
        using var reader = new UsageStore(dbPath);
        var rows = await reader.ReadAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.DoesNotContain(Key, r.AttemptsJson ?? "", StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(folder.Path))
        {
            Assert.DoesNotContain(Key, Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken)), StringComparison.Ordinal);
        }
    }
}
