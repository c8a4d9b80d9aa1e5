using Ally.Host.Tests.Fakes;
using Ally.Host.Usage;
using Microsoft.Data.Sqlite;

namespace Ally.Host.Tests.Usage;

public sealed class UsageStoreTests
{
    private static readonly DateTimeOffset Noon = new(2026, 7, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void DefaultPath_PrefersAllyHomeThenXdgThenHome()
    {
        // Given
        var env = new Dictionary<string, string?> { ["ALLY_HOME"] = "/a", ["XDG_DATA_HOME"] = "/x", ["HOME"] = "/h" };

        // When / Then
        Assert.Equal(Path.Combine("/a", "ally.db"), UsageStore.DefaultPath(n => env.GetValueOrDefault(n)));
        env["ALLY_HOME"] = null;
        Assert.Equal(Path.Combine("/x", "ally", "ally.db"), UsageStore.DefaultPath(n => env.GetValueOrDefault(n)));
        env["XDG_DATA_HOME"] = "";
        Assert.Equal(Path.Combine("/h", ".local", "share", "ally", "ally.db"), UsageStore.DefaultPath(n => env.GetValueOrDefault(n)));
    }

    [Fact]
    public void Constructor_NewFolder_CreatesADatabaseOnlyItsOwnerCanRead()
    {
        // Given
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "deeper", "ally.db");

        // When
        using var store = new UsageStore(path);

        // Then
        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public async Task RecordAsync_ThenReadAsync_RoundTripsEveryField()
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var record = new UsageRecord
        {
            Time = Noon,
            SessionId = "s1",
            Role = "coder",
            Provider = "anthropic",
            Model = "claude-sonnet-4-5",
            InputTokens = 10_000,
            OutputTokens = 1_000,
            TotalTokens = 11_000,
            CachedInputTokens = 6_000,
            ReasoningTokens = 300,
            CostUsd = 0.0303m,
            LatencyMs = 1234,
            TimeToFirstTokenMs = 321,
            Outcome = "ok",
            AttemptsJson = "[]",
        };

        // When
        await store.RecordAsync(record, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(record, Assert.Single(await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task RecordAsync_NullsAndNonAsciiText_RoundTrip()
    {
        // Given a failed call with no usage, and text outside ASCII in every text column
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        var record = new UsageRecord
        {
            Time = Noon,
            SessionId = null,
            Role = "rôle-écrivain",
            Provider = "provider-ü",
            Model = null,
            CostUsd = null,
            LatencyMs = 0,
            Outcome = "network",
            AttemptsJson = """[{"provider":"provider-ü","message":"connexion refusée 😀"}]""",
        };

        // When
        await store.RecordAsync(record, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(record, Assert.Single(await store.ReadAsync(cancellationToken: TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task RecordAsync_ConcurrentWritersOnOneFile_LoseNothing()
    {
        // Given: four stores (as four processes would) on one database
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        var stores = Enumerable.Range(0, 4).Select(_ => new UsageStore(path)).ToList();

        // When
        await Task.WhenAll(stores.SelectMany(store => Enumerable.Range(0, 25).Select(i => Task.Run(
            () => store.RecordAsync(new UsageRecord { Time = Noon.AddSeconds(i), Provider = "openai", Outcome = "ok", CostUsd = 0.001m }, TestContext.Current.CancellationToken),
            TestContext.Current.CancellationToken))));

        // Then, once each store has written its queue (a process sees another's calls when they reach the file)
        await Task.WhenAll(stores.Select(store => store.FlushAsync(TestContext.Current.CancellationToken)));
        Assert.Equal(100, (await stores[0].ReadAsync(cancellationToken: TestContext.Current.CancellationToken)).Count);
        Assert.Equal(0.1m, await stores[1].GetSpendAsync(Noon, Noon.AddDays(1), TestContext.Current.CancellationToken));
        stores.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task RecordAsync_ManyCallsThenDispose_WritesEveryOne()
    {
        // Given more calls than one batch, recorded without waiting for the disk
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        var store = new UsageStore(path);
        await Task.WhenAll(Enumerable.Range(0, 3_000).Select(i =>
            store.RecordAsync(new UsageRecord { Time = Noon.AddMilliseconds(i), Provider = "openai", Outcome = "ok", LatencyMs = i }, TestContext.Current.CancellationToken)));

        // When the process ends
        store.Dispose();

        // Then every call is in the file, in order
        using var reader = new UsageStore(path);
        var records = await reader.ReadAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3_000, records.Count);
        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => (long)i), records.Select(r => r.LatencyMs));
    }

    [Fact]
    public async Task FlushAsync_AfterRecordAsync_CallIsInTheFileForOtherConnections()
    {
        // Given
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        using var store = new UsageStore(path);
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "groq", Outcome = "cancelled" }, TestContext.Current.CancellationToken);

        // When
        await store.FlushAsync(TestContext.Current.CancellationToken);

        // Then a plain connection (another process, say) sees it
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM calls WHERE outcome = 'cancelled'";
        Assert.Equal(1L, command.ExecuteScalar());
    }

    [Fact]
    public async Task RecordAsync_WithoutFlush_IsWrittenWhenTheBatchWindowEnds()
    {
        // Given a call recorded and nobody waiting for it
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        var clock = new FakeTimeProvider();
        using var store = await StoreWithACallInItsWindowAsync(path, clock);

        // Then it waits for more calls to share its transaction...
        Assert.Equal(UsageStore.BatchWindow, clock.NextDue);
        Assert.Equal(0L, CountInFile(path));

        // ...and another process sees it once the window is over
        clock.Advance(UsageStore.BatchWindow);
        await WaitUntilAsync(() => CountInFile(path) == 1);
    }

    [Fact]
    public async Task RecordAsync_WithoutFlushOnTheSystemClock_IsWrittenWhenTheWindowEnds()
    {
        // Given a store on the real clock (whose window is a timed wait on the writer's thread, not a timer)
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        using var store = new UsageStore(path);

        // When a call is recorded and nobody flushes
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "groq", Outcome = "ok" }, TestContext.Current.CancellationToken);

        // Then another process sees it once the window has passed
        await WaitUntilAsync(() => CountInFile(path) == 1);
    }

    [Fact]
    public async Task FlushAsync_DuringTheBatchWindow_WritesAtOnce()
    {
        // Given a call waiting in the batch window (a clock that never moves: only the flush can end it)
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        using var store = await StoreWithACallInItsWindowAsync(path, new FakeTimeProvider());

        // When a daily budget's check (or a read) flushes
        await store.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Then the call is in the file without the window's wait
        Assert.Equal(1L, CountInFile(path));
    }

    [Fact]
    public async Task RecordAsync_MoreThanABatchInOneWindow_WritesThemAllWhenItEnds()
    {
        // Given more calls than one transaction takes, all queued within one window
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        var clock = new FakeTimeProvider();
        using var store = await StoreWithACallInItsWindowAsync(path, clock);
        for (var i = 1; i < 1_500; i++)
        {
            await store.RecordAsync(new UsageRecord { Time = Noon.AddMilliseconds(i), Provider = "openai", Outcome = "ok" }, TestContext.Current.CancellationToken);
        }

        // When the one window ends
        clock.Advance(UsageStore.BatchWindow);

        // Then every batch is written, not one batch a window
        await WaitUntilAsync(() => CountInFile(path) == 1_500);
    }

    [Fact]
    public async Task RecordAsync_AfterDispose_IsStillWritten()
    {
        // Given a store disposed while a late call was still finishing
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        var store = new UsageStore(path);
        store.Dispose();

        // When
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "late", Outcome = "ok" }, TestContext.Current.CancellationToken);

        // Then
        using var reader = new UsageStore(path);
        Assert.Equal("late", Assert.Single(await reader.ReadAsync(cancellationToken: TestContext.Current.CancellationToken)).Provider);
    }

    [Fact]
    public async Task GetSpendAsync_CountsOnlyKnownCostsInTheRange()
    {
        // Given
        using var folder = new TempFolder();
        using var store = new UsageStore(folder.Combine("ally.db"));
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "a", Outcome = "ok", CostUsd = 0.25m }, TestContext.Current.CancellationToken);
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "a", Outcome = "ok", CostUsd = null }, TestContext.Current.CancellationToken);
        await store.RecordAsync(new UsageRecord { Time = Noon.AddDays(-1), Provider = "a", Outcome = "ok", CostUsd = 7m }, TestContext.Current.CancellationToken);

        // When
        var spent = await store.GetSpendAsync(Noon.AddHours(-12), Noon.AddHours(12), TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(0.25m, spent);
    }

    /// <summary>A store on <paramref name="clock"/> whose writer waits in its batch window with one call queued.</summary>
    [Fact]
    public async Task RecordAsync_TheWriterWaitsAndWritesOnItsOwnThread_NeverOnThePool()
    {
        // Given a store whose clock notes which thread starts each batch window
        using var folder = new TempFolder();
        var path = folder.Combine("ally.db");
        var clock = new ThreadNotingClock();
        using var store = new UsageStore(path, clock);

        // When a call is recorded, its window ends and is written, and a second call opens the next window
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "groq", Outcome = "ok" }, TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => clock.Inner.PendingTimers == 1);
        clock.Inner.Advance(UsageStore.BatchWindow);
        await WaitUntilAsync(() => CountInFile(path) == 1);
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "groq", Outcome = "ok" }, TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => clock.Inner.PendingTimers == 1);

        // Then both windows began on the writer's own thread: thread-pool workers woken for the writer spin and
        // compete with a gateway's calls on the socket threads
        Assert.Equal(["Ally usage writer", "Ally usage writer"], clock.Starters);
    }

    private static async Task<UsageStore> StoreWithACallInItsWindowAsync(string path, FakeTimeProvider clock)
    {
        var store = new UsageStore(path, clock);
        await store.RecordAsync(new UsageRecord { Time = Noon, Provider = "groq", Outcome = "ok" }, TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => clock.PendingTimers == 1);
        return store;
    }

    private static long CountInFile(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM calls";
        return (long)command.ExecuteScalar()!;
    }

    // The writer runs on its own; what it does after a timer fires shows up a moment later.
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            Assert.True(waited < 30_000, "the usage writer did not get there within 30 s");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A <see cref="FakeTimeProvider"/> that notes the thread creating each timer (a pool thread as "pool").</summary>
    private sealed class ThreadNotingClock : TimeProvider
    {
        private readonly List<string> _starters = [];

        public FakeTimeProvider Inner { get; } = new();

        public IReadOnlyList<string> Starters
        {
            get
            {
                lock (_starters)
                {
                    return [.. _starters];
                }
            }
        }

        public override DateTimeOffset GetUtcNow() => Inner.GetUtcNow();

        public override long GetTimestamp() => Inner.GetTimestamp();

        public override long TimestampFrequency => Inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_starters)
            {
                _starters.Add(Thread.CurrentThread.IsThreadPoolThread ? "pool" : Thread.CurrentThread.Name ?? "unnamed");
            }

            return Inner.CreateTimer(callback, state, dueTime, period);
        }
    }
}
