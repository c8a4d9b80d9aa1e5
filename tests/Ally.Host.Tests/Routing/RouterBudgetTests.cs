using Ally.Host.Pricing;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using Ally.Host.Tests.Usage;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterBudgetTests
{
    // $1,000 per million output tokens: a call capped at 100 output tokens is estimated, and billed, at exactly $0.10.
    private static readonly PriceTable TenCentCalls = PriceTable.Create(
        new Dictionary<string, PriceEntry> { ["a/m1"] = new() { Input = 0, Output = 1_000 } },
        baseTable: PriceTable.Empty);

    private static readonly ChatOptions HundredTokens = new() { MaxOutputTokens = 100 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_CallWouldExceedSessionBudget_IsRefusedBeforeItIsSent(bool streamed)
    {
        // Given: $0.15 allows one call of $0.10
        var a = new ScriptedProvider("a") { Usage = new() { InputTokenCount = 10, OutputTokenCount = 100 } };
        using var router = Create(new ScriptedProviderSource(a), fallbacks: [], prices: TenCentCalls, budget: new() { SessionUsd = 0.15m });
        await AskAsync(router, streamed, HundredTokens, cancellationToken: TestContext.Current.CancellationToken);

        // When
        var thrown = await Assert.ThrowsAsync<BudgetExceededException>(() => AskAsync(router, streamed, HundredTokens, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(1, a.Calls);
        Assert.Equal("budget.session_usd", thrown.BudgetKey);
        Assert.Contains("budget.session_usd", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("$0.1000", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0.10m, thrown.Committed);
    }

    [Fact]
    public async Task GetResponse_FiftyParallelCallsAgainstATenCallBudget_SpendNoMoreThanTheBudget()
    {
        // Given: a daily budget of $1.00 and calls of $0.10; the provider holds every call until all 50 have started
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = new ScriptedProvider("a")
        {
            Usage = new() { InputTokenCount = 10, OutputTokenCount = 100 },
            BeforeAnswer = ct => gate.Task.WaitAsync(ct),
        };
        using var router = Create(new ScriptedProviderSource(a), fallbacks: [], prices: TenCentCalls, usage: store, budget: new() { DailyUsd = 1.00m });

        // When
        var calls = Enumerable.Range(0, 50)
            .Select(i => Task.Run(() => AskAsync(router, streamed: i % 2 == 0, HundredTokens, cancellationToken: TestContext.Current.CancellationToken), TestContext.Current.CancellationToken))
            .ToList();
        await WaitUntilAsync(() => a.Calls + calls.Count(c => c.IsFaulted) == 50, TestContext.Current.CancellationToken);
        gate.SetResult();
        var outcomes = await Task.WhenAll(calls.Select(async c =>
        {
            try
            {
                await c;
                return "ok";
            }
            catch (BudgetExceededException)
            {
                return "refused";
            }
        }));

        // Then
        Assert.Equal(10, outcomes.Count(o => o == "ok"));
        Assert.Equal(10, a.Calls);
        var today = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var spent = await store.GetSpendAsync(today, DateTimeOffset.MaxValue, TestContext.Current.CancellationToken);
        Assert.True(spent <= 1.00m, $"Spent {spent}, more than the budget.");
        Assert.Equal(1.00m, spent);
    }

    [Fact]
    public async Task GetResponse_DailyBudgetSpentByEarlierRuns_IsRefusedFromTheUsageStore()
    {
        // Given: another process spent $0.95 today
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var time = new FakeTimeProvider();
        await store.RecordAsync(new UsageRecord { Time = time.GetUtcNow().AddHours(-1), Provider = "a", Outcome = "ok", CostUsd = 0.95m }, TestContext.Current.CancellationToken);
        await store.RecordAsync(new UsageRecord { Time = time.GetUtcNow().AddDays(-1), Provider = "a", Outcome = "ok", CostUsd = 5m }, TestContext.Current.CancellationToken);
        var a = new ScriptedProvider("a");
        using var router = Create(new ScriptedProviderSource(a), fallbacks: [], prices: TenCentCalls, usage: store, time: time, budget: new() { DailyUsd = 1.00m });

        // When
        var thrown = await Assert.ThrowsAsync<BudgetExceededException>(() => AskAsync(router, streamed: false, HundredTokens, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal("budget.daily_usd", thrown.BudgetKey);
        Assert.Equal(0.95m, thrown.Committed);
        Assert.Equal(0, a.Calls);
        Assert.Equal(2, (await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken)).Count);
    }

    [Fact]
    public async Task GetResponse_FallbackOverBudget_IsSkippedAndTheFailureSurfaces()
    {
        // Given: a fails with a bad key; b would cost more than the session budget allows
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(Ally.Abstractions.ProviderErrorKind.Authentication));
        var prices = PriceTable.Create(
            new Dictionary<string, PriceEntry> { ["a/m1"] = new() { Input = 0, Output = 1 }, ["b/m1"] = new() { Input = 0, Output = 100_000 } },
            baseTable: PriceTable.Empty);
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, fallbacks: ["b"], prices: prices, budget: new() { SessionUsd = 1m });

        // When
        var thrown = await Assert.ThrowsAsync<Ally.Abstractions.ProviderException>(() => AskAsync(router, streamed: false, HundredTokens, cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(0, source["b"].Calls);
        Assert.Equal(["authentication", "budget_exceeded"], RouterAttempts.From(thrown).Select(x => x.Error));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_PrimaryFailsWithinABudgetForOneCall_FallbackStillAnswers(bool streamed)
    {
        // Given: $0.15 allows one $0.10 call; a fails without being billed, b can answer
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(Ally.Abstractions.ProviderErrorKind.Authentication, status: 401));
        var b = new ScriptedProvider("b") { Usage = new() { InputTokenCount = 10, OutputTokenCount = 100 } };
        var prices = PriceTable.Create(
            new Dictionary<string, PriceEntry> { ["a/m1"] = new() { Input = 0, Output = 1_000 }, ["b/m1"] = new() { Input = 0, Output = 1_000 } },
            baseTable: PriceTable.Empty);
        using var router = Create(new ScriptedProviderSource(a, b), fallbacks: ["b"], prices: prices, budget: new() { SessionUsd = 0.15m });

        // When
        var response = await AskAsync(router, streamed, HundredTokens, cancellationToken: TestContext.Current.CancellationToken);

        // Then: the failed attempt's reservation did not keep b out, and only b's call is spent
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(["authentication", null], Attempts(response).Select(x => x.Error));
        var thrown = await Assert.ThrowsAsync<BudgetExceededException>(() => AskAsync(router, streamed, HundredTokens, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(0.10m, thrown.Committed);
    }

    [Fact]
    public async Task BudgetGuard_Settle_ReplacesTheReservationWithTheRealCost()
    {
        // Given
        using var guard = new BudgetGuard(new BudgetOptions { SessionUsd = 1m });
        var reservation = await guard.ReserveAsync(null, 0.9m, "a/m1", TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<BudgetExceededException>(() => guard.ReserveAsync(null, 0.2m, "a/m1", TestContext.Current.CancellationToken));

        // When
        guard.Settle(reservation, 0.3m);

        // Then
        Assert.Equal(0.3m, guard.GetSessionSpent(null));
        await guard.ReserveAsync(null, 0.2m, "a/m1", TestContext.Current.CancellationToken);
        await guard.ReserveAsync("other-session", 0.9m, "a/m1", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task BudgetGuard_UnknownPrice_IsAllowed()
    {
        // Given
        using var guard = new BudgetGuard(new BudgetOptions { SessionUsd = 0m });

        // When
        var reservation = await guard.ReserveAsync(null, null, "d/m1", TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(0m, reservation.Amount);
    }
}
