using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Ally.Host.Usage;

/// <summary>Records every routed call in a local SQLite database and answers questions about them.</summary>
/// <remarks>
/// <para>The database is in WAL mode so that several Ally processes (an agent and a gateway) can write at once; each
/// operation opens its own pooled connection and SQLite's busy timeout makes concurrent writers wait their turn.</para>
/// <para><see cref="RecordAsync"/> only queues the call: one background task inserts the queued calls in batches, one
/// transaction each, so that a routed call does not wait for the disk (the gateway's p99, docs/gateway-benchmark.md).
/// Calls gather for up to <see cref="BatchWindow"/> before they are written, so that a gateway serving a call now and
/// then does not wake a thread and commit a transaction for each (at 23 calls a second that was 40% of its CPU and
/// fell on the next call's arrival); a flush or a read cuts the window short. The queue is bounded, and a full
/// queue makes callers wait rather than lose calls. Reads and <see cref="GetSpendAsync"/> wait for the calls queued
/// before them, so this process always sees its own calls at once, and other processes see them within the window;
/// <see cref="FlushAsync"/> waits explicitly, and <see cref="Dispose"/> writes what is left.</para>
/// Costs are stored as whole nano-dollars so that sums are exact. The file is readable by its owner only: prompts
/// are not stored, but provider error messages and usage patterns are the user's business. Thread-safe.
/// </remarks>
internal sealed class UsageStore : IDisposable
{
    /// <summary>The database's file name in Ally's data folder.</summary>
    public const string FileName = "ally.db";

    private const decimal NanoPerDollar = 1_000_000_000m;
    private const int QueueCapacity = 10_000;
    private const int MaxBatch = 512;

    /// <summary>How long the writer lets calls gather before a transaction, unless someone waits for them (a flush, a
    /// read, a daily budget's check), and so how late another process may see a call.</summary>
    public static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(1);

    private const string InsertSql = """
        INSERT INTO calls (time_ms, session_id, role, provider, model, input_tokens, output_tokens, total_tokens,
                           cached_tokens, reasoning_tokens, cost_nano_usd, latency_ms, ttft_ms, outcome, attempts)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
        """;

    private readonly string _connectionString;
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly TimeProvider _timeProvider;
    private readonly WriterThreadScheduler _writerThread;
    private readonly Task _writer;
    private volatile bool _disposed;

    // Flush markers queued and not yet taken by the writer; while there are any, the writer does not wait.
    private int _flushesWaiting;

    // Completed to end the writer's batch window early; the writer puts a new one in place before each window.
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="path">The database file; created, with its folder, when missing.</param>
    /// <param name="timeProvider">The clock of the batch window; defaults to the system's.</param>
    public UsageStore(string path, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _timeProvider = timeProvider ?? TimeProvider.System;
        Path = System.IO.Path.GetFullPath(path);
        CreateFile(Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        Initialise();
        _writerThread = new WriterThreadScheduler("Ally usage writer");
        _writer = Task.Factory.StartNew(DrainAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _writerThread).Unwrap();
    }

    /// <summary>Gets the last error the background writer met, if any (the calls of that batch are lost; later ones are not).</summary>
    public Exception? LastWriteError { get; private set; }

    /// <summary>Gets the full path of the database file.</summary>
    public string Path { get; }

    /// <summary>Finds where the database lives: <c>$ALLY_HOME/ally.db</c>, else <c>$XDG_DATA_HOME/ally/ally.db</c>, else <c>~/.local/share/ally/ally.db</c>.</summary>
    /// <param name="getEnvironmentVariable">Reads an environment variable; defaults to the process environment.</param>
    public static string DefaultPath(Func<string, string?>? getEnvironmentVariable = null) =>
        System.IO.Path.Combine(Configuration.AllyPaths.DataDirectory(getEnvironmentVariable ?? Environment.GetEnvironmentVariable), FileName);

    /// <summary>Queues a call for the database; completes at once unless the queue is full.</summary>
    public Task RecordAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_disposed)
        {
            InsertNow(record);
            return Task.CompletedTask;
        }

        return _queue.Writer.TryWrite(new Pending(record, null)) ? Task.CompletedTask : EnqueueAsync(record, cancellationToken);
    }

    /// <summary>Waits until every call recorded so far is in the database.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_disposed)
        {
            return;
        }

        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _flushesWaiting);
        try
        {
            await _queue.Writer.WriteAsync(new Pending(null, flushed), cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // Disposed meanwhile: Dispose has written everything.
            Interlocked.Decrement(ref _flushesWaiting);
            return;
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref _flushesWaiting);
            throw;
        }

        // After the count went up: a writer that looked before then is in its window, and this ends it.
        Volatile.Read(ref _wake).TrySetResult();
        await flushed.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Sums the known costs of the calls made in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public async Task<decimal> GetSpendAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(SUM(cost_nano_usd), 0) FROM calls WHERE time_ms >= $from AND time_ms < $to";
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        var nano = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        return nano / NanoPerDollar;
    }

    /// <summary>Groups the calls made since <paramref name="since"/> (all calls when <see langword="null"/>).</summary>
    public async Task<IReadOnlyList<UsageReportRow>> QueryAsync(DateTimeOffset? since, UsageGrouping by, CancellationToken cancellationToken = default)
    {
        var key = by switch
        {
            UsageGrouping.Provider => "provider",
            UsageGrouping.Model => "provider || '/' || COALESCE(model, '(default)')",
            UsageGrouping.Day => "strftime('%Y-%m-%d', time_ms / 1000, 'unixepoch')",
            UsageGrouping.Role => "COALESCE(role, '(none)')",
            _ => throw new ArgumentOutOfRangeException(nameof(by), by, "Unknown grouping."),
        };

        await FlushAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {key} AS grouping_key, COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                   SUM(cost_nano_usd), SUM(CASE WHEN cost_nano_usd IS NULL THEN 1 ELSE 0 END)
            FROM calls
            WHERE $since IS NULL OR time_ms >= $since
            GROUP BY grouping_key
            ORDER BY grouping_key
            """;
        command.Parameters.AddWithValue("$since", since is { } s ? s.ToUnixTimeMilliseconds() : DBNull.Value);
        var rows = new List<UsageReportRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new UsageReportRow(
                reader.GetString(0),
                reader.GetInt64(1),
                reader.GetInt64(2),
                reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4) / NanoPerDollar,
                reader.GetInt64(5)));
        }

        return rows;
    }

    /// <summary>Reads the calls made since <paramref name="since"/>, oldest first.</summary>
    public Task<IReadOnlyList<UsageRecord>> ReadAsync(DateTimeOffset? since = null, CancellationToken cancellationToken = default) =>
        ReadAsync(since, latest: null, cancellationToken);

    /// <summary>Reads the latest <paramref name="count"/> calls made since <paramref name="since"/>, newest first.</summary>
    public Task<IReadOnlyList<UsageRecord>> ReadLatestAsync(DateTimeOffset? since, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return ReadAsync(since, count, cancellationToken);
    }

    private async Task<IReadOnlyList<UsageRecord>> ReadAsync(DateTimeOffset? since, int? latest, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT time_ms, session_id, role, provider, model, input_tokens, output_tokens, total_tokens, cached_tokens,
                   reasoning_tokens, cost_nano_usd, latency_ms, ttft_ms, outcome, attempts
            FROM calls WHERE $since IS NULL OR time_ms >= $since {(latest is null ? "ORDER BY id" : "ORDER BY id DESC LIMIT $latest")}
            """;
        command.Parameters.AddWithValue("$since", since is { } s ? s.ToUnixTimeMilliseconds() : DBNull.Value);
        if (latest is { } count)
        {
            command.Parameters.AddWithValue("$latest", count);
        }

        var records = new List<UsageRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new UsageRecord
            {
                Time = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
                SessionId = reader.IsDBNull(1) ? null : reader.GetString(1),
                Role = reader.IsDBNull(2) ? null : reader.GetString(2),
                Provider = reader.GetString(3),
                Model = reader.IsDBNull(4) ? null : reader.GetString(4),
                InputTokens = reader.IsDBNull(5) ? null : reader.GetInt64(5),
                OutputTokens = reader.IsDBNull(6) ? null : reader.GetInt64(6),
                TotalTokens = reader.IsDBNull(7) ? null : reader.GetInt64(7),
                CachedInputTokens = reader.IsDBNull(8) ? null : reader.GetInt64(8),
                ReasoningTokens = reader.IsDBNull(9) ? null : reader.GetInt64(9),
                CostUsd = reader.IsDBNull(10) ? null : reader.GetInt64(10) / NanoPerDollar,
                LatencyMs = reader.GetInt64(11),
                TimeToFirstTokenMs = reader.IsDBNull(12) ? null : reader.GetInt64(12),
                Outcome = reader.GetString(13),
                AttemptsJson = reader.IsDBNull(14) ? null : reader.GetString(14),
            });
        }

        return records;
    }

    /// <summary>Remembers a provider's cooldown, so that the next Ally process skips it too.</summary>
    public void SaveCooldown(Routing.CooldownInfo cooldown)
    {
        ArgumentNullException.ThrowIfNull(cooldown);
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO cooldowns (provider, reason, until_ms) VALUES ($provider, $reason, $until)
            ON CONFLICT (provider) DO UPDATE SET reason = excluded.reason, until_ms = excluded.until_ms
            WHERE excluded.until_ms > cooldowns.until_ms
            """;
        command.Parameters.AddWithValue("$provider", cooldown.Provider);
        command.Parameters.AddWithValue("$reason", cooldown.Reason);
        command.Parameters.AddWithValue("$until", cooldown.Until.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    /// <summary>Forgets a provider's cooldown (it answered again).</summary>
    public void DeleteCooldown(string provider)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM cooldowns WHERE provider = $provider";
        command.Parameters.AddWithValue("$provider", provider);
        command.ExecuteNonQuery();
    }

    /// <summary>Gets the cooldowns still running at <paramref name="now"/>.</summary>
    public IReadOnlyList<Routing.CooldownInfo> LoadCooldowns(DateTimeOffset now)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT provider, reason, until_ms FROM cooldowns WHERE until_ms > $now";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        using var reader = command.ExecuteReader();
        var result = new List<Routing.CooldownInfo>();
        while (reader.Read())
        {
            result.Add(new Routing.CooldownInfo(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return result;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        // Calls queued before now are written before the process goes; any recorded later are written one by one.
        _disposed = true;
        _queue.Writer.TryComplete();
        Interlocked.MemoryBarrier();
        Volatile.Read(ref _wake).TrySetResult();
        _writer.GetAwaiter().GetResult();
        _writerThread.Dispose();

        // Pooled connections keep the file open; release them so the file can be moved or deleted.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private async Task EnqueueAsync(UsageRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(new Pending(record, null), cancellationToken);
        }
        catch (ChannelClosedException)
        {
            InsertNow(record);
        }
    }

    /// <summary>The one reader of the queue: takes what is queued (up to a batch), inserts it in one transaction, repeats.</summary>
    private async Task DrainAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<UsageRecord>(MaxBatch);
        var flushes = new List<TaskCompletionSource>();
        SqliteConnection? connection = null;
        try
        {
            // No ConfigureAwait(false) here: the continuations stay on the writer's own thread (WriterThreadScheduler).
            while (await reader.WaitToReadAsync())
            {
                await WaitForBatchAsync(reader);

                // Everything queued by now, a batch per transaction, before the next window.
                while (reader.TryPeek(out _))
                {
                    while (batch.Count < MaxBatch && reader.TryRead(out var pending))
                    {
                        if (pending.Record is { } record)
                        {
                            batch.Add(record);
                        }
                        else
                        {
                            // Completed once this batch is written: every call queued before the marker is in it or
                            // in an earlier batch.
                            Interlocked.Decrement(ref _flushesWaiting);
                            flushes.Add(pending.Flushed!);
                        }
                    }

                    if (batch.Count > 0)
                    {
                        connection = InsertBatch(connection, batch);
                        batch.Clear();
                    }

                    foreach (var flushed in flushes)
                    {
                        flushed.TrySetResult();
                    }

                    flushes.Clear();
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Lets calls gather for <see cref="BatchWindow"/>, unless a flush waits, a batch is full or the store is closing.</summary>
    private async Task WaitForBatchAsync(ChannelReader<Pending> reader)
    {
        // In place before the checks (a full fence, as on the other side): a flush counted or a Dispose begun after
        // them completes this one.
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _wake, wake);
        if (_disposed || Volatile.Read(ref _flushesWaiting) > 0 || reader.Count >= MaxBatch)
        {
            return;
        }

        if (_timeProvider == TimeProvider.System)
        {
            // A plain timed wait on the writer's own thread: a timer would fire on the thread pool and wake it.
            wake.Task.Wait(BatchWindow);
            return;
        }

        using var windowEnded = new CancellationTokenSource();
        var window = Task.Delay(BatchWindow, _timeProvider, windowEnded.Token);
        if (await Task.WhenAny(window, wake.Task) != window)
        {
            await windowEnded.CancelAsync();
        }
    }

    private SqliteConnection? InsertBatch(SqliteConnection? connection, List<UsageRecord> batch)
    {
        try
        {
            if (connection is null)
            {
                connection = new SqliteConnection(_connectionString);
                connection.Open();
            }

            // BEGIN IMMEDIATE takes the write lock at once, waiting out another process's writer with the busy
            // timeout, so the inserts inside cannot meet SQLITE_BUSY. They go through SQLite's own statement API:
            // SqliteCommand would box every number and allocate a binder per parameter and a UTF-8 copy of every
            // string for each call recorded (docs/gateway-benchmark.md).
            using var transaction = connection.BeginTransaction(deferred: false);
            var database = connection.Handle!;
            Check(raw.sqlite3_prepare_v2(database, InsertSql, out var statement), database);
            using (statement)
            {
                foreach (var record in batch)
                {
                    Bind(statement, database, record);
                    Check(raw.sqlite3_step(statement), database, expected: raw.SQLITE_DONE);
                    raw.sqlite3_reset(statement);
                }
            }

            transaction.Commit();
            return connection;
        }
#pragma warning disable CA1031 // usage accounting must never stop: note the failure, start afresh with the next batch
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LastWriteError = ex;
            connection?.Dispose();
            return null;
        }
    }

    private void InsertNow(UsageRecord record)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        InsertBatch(connection, [record]);
    }

    /// <summary>Binds a record to the insert, in the order of <see cref="InsertSql"/>'s parameters (1-based).</summary>
    private static void Bind(sqlite3_stmt statement, sqlite3 database, UsageRecord record)
    {
        Check(raw.sqlite3_bind_int64(statement, 1, record.Time.ToUnixTimeMilliseconds()), database);
        BindText(statement, database, 2, record.SessionId);
        BindText(statement, database, 3, record.Role);
        BindText(statement, database, 4, record.Provider);
        BindText(statement, database, 5, record.Model);
        BindInt64(statement, database, 6, record.InputTokens);
        BindInt64(statement, database, 7, record.OutputTokens);
        BindInt64(statement, database, 8, record.TotalTokens);
        BindInt64(statement, database, 9, record.CachedInputTokens);
        BindInt64(statement, database, 10, record.ReasoningTokens);
        BindInt64(statement, database, 11, record.CostUsd is { } cost ? ToNano(cost) : null);
        BindInt64(statement, database, 12, record.LatencyMs);
        BindInt64(statement, database, 13, record.TimeToFirstTokenMs);
        BindText(statement, database, 14, record.Outcome);
        BindText(statement, database, 15, record.AttemptsJson);
    }

    private static void BindInt64(sqlite3_stmt statement, sqlite3 database, int index, long? value) =>
        Check(value is { } number ? raw.sqlite3_bind_int64(statement, index, number) : raw.sqlite3_bind_null(statement, index), database);

    // UTF-16 straight from the string: SQLite copies and converts it (SQLITE_TRANSIENT), so no UTF-8 copy is made here.
    private static void BindText(sqlite3_stmt statement, sqlite3 database, int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(statement, index) : raw.sqlite3_bind_text16(statement, index, value.AsSpan()), database);

    private static void Check(int result, sqlite3 database, int expected = raw.SQLITE_OK)
    {
        if (result != expected)
        {
            SqliteException.ThrowExceptionForRC(result, database);

            // A result that is neither the expected one nor an error (SQLITE_ROW from an INSERT) is a bug here.
            throw new InvalidOperationException($"SQLite answered {result} where {expected} was expected.");
        }
    }

    private static long ToNano(decimal dollars) => (long)Math.Round(dollars * NanoPerDollar, MidpointRounding.AwayFromZero);

    private static void CreateFile(string path)
    {
        var folder = System.IO.Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(path))
        {
            try
            {
                using var stream = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first; the mode is fixed below either way.
            }
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private void Initialise()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS calls (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time_ms INTEGER NOT NULL,
                session_id TEXT,
                role TEXT,
                provider TEXT NOT NULL,
                model TEXT,
                input_tokens INTEGER,
                output_tokens INTEGER,
                total_tokens INTEGER,
                cached_tokens INTEGER,
                reasoning_tokens INTEGER,
                cost_nano_usd INTEGER,
                latency_ms INTEGER NOT NULL,
                ttft_ms INTEGER,
                outcome TEXT NOT NULL,
                attempts TEXT
            );
            CREATE INDEX IF NOT EXISTS calls_time ON calls (time_ms);
            CREATE TABLE IF NOT EXISTS cooldowns (
                provider TEXT PRIMARY KEY,
                reason TEXT NOT NULL,
                until_ms INTEGER NOT NULL
            );
            """;
        command.ExecuteNonQuery();

        if (!OperatingSystem.IsWindows())
        {
            // WAL mode adds two files next to the database; they hold the same data.
            foreach (var suffix in new[] { "-wal", "-shm" })
            {
                if (File.Exists(Path + suffix))
                {
                    File.SetUnixFileMode(Path + suffix, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A queued call, or a flush marker that completes once every call queued before it is written.</summary>
    private readonly record struct Pending(UsageRecord? Record, TaskCompletionSource? Flushed);
}
