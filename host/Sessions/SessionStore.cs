using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Ally.Host.Agent;
using Ally.Host.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace Ally.Host.Sessions;

/// <summary>
/// Chat sessions in SQLite (<c>sessions.db</c> in the data folder). Each turn is written in one transaction as soon
/// as it completes, so a crash loses at most the answer in flight. Messages are stored as Microsoft.Extensions.AI's
/// own JSON, tool calls and results included; no setting or key is ever written.
/// </summary>
/// <remarks>A connection per operation: several Ally processes may share the file.</remarks>
internal sealed class SessionStore
{
    public const string FileName = "sessions.db";

    private readonly string _connectionString;
    private readonly TimeProvider _timeProvider;
    private readonly Lazy<bool> _initialized;

    public SessionStore(string databasePath, TimeProvider timeProvider)
    {
        DatabasePath = databasePath;
        _timeProvider = timeProvider;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            DefaultTimeout = 10,
            Pooling = false,
        }.ToString();
        _initialized = new Lazy<bool>(Initialize);
    }

    public string DatabasePath { get; }

    /// <summary>Creates a session id: ten random lower-case hex digits, short enough to type.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

    /// <summary>Writes the session's row and the messages added or changed since the last save.</summary>
    public void Save(Conversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, """
            INSERT INTO sessions (id, started_at, updated_at, role, provider, model, directory, first_prompt, turns, input_tokens, output_tokens, cost_usd, unknown_cost_turns)
            VALUES ($id, $started, $updated, $role, $provider, $model, $directory, $first, $turns, $in, $out, $cost, $unknown)
            ON CONFLICT(id) DO UPDATE SET updated_at = $updated, role = $role, provider = $provider, model = $model,
                first_prompt = $first, turns = $turns, input_tokens = $in, output_tokens = $out, cost_usd = $cost, unknown_cost_turns = $unknown
            """,
            ("$id", conversation.Id),
            ("$started", conversation.StartedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)),
            ("$updated", _timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
            ("$role", conversation.Role),
            ("$provider", conversation.Provider),
            ("$model", conversation.Model),
            ("$directory", conversation.Directory),
            ("$first", conversation.FirstPrompt),
            ("$turns", conversation.Turns),
            ("$in", conversation.InputTokens),
            ("$out", conversation.OutputTokens),
            ("$cost", (double)conversation.CostUsd),
            ("$unknown", conversation.UnknownCostTurns));

        var from = Math.Min(conversation.SavedCount, conversation.Messages.Count);
        Execute(connection, transaction, "DELETE FROM messages WHERE session_id = $id AND seq >= $from", ("$id", conversation.Id), ("$from", from));
        for (var i = from; i < conversation.Messages.Count; i++)
        {
            Execute(connection, transaction, "INSERT INTO messages (session_id, seq, role, json) VALUES ($id, $seq, $role, $json)",
                ("$id", conversation.Id),
                ("$seq", i),
                ("$role", conversation.Messages[i].Role.Value),
                ("$json", JsonSerializer.Serialize(conversation.Messages[i], AIJsonUtilities.DefaultOptions)));
        }

        transaction.Commit();
        conversation.SavedCount = conversation.Messages.Count;
    }

    /// <summary>Loads a session by id or by a prefix that names one session; null when none matches.</summary>
    /// <exception cref="ConfigException">The prefix matches several sessions.</exception>
    public Conversation? Load(string idOrPrefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrPrefix);
        using var connection = Open();
        var ids = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id FROM sessions WHERE id = $id OR id LIKE $prefix ESCAPE '\\' ORDER BY id = $id DESC, updated_at DESC LIMIT 10";
            command.Parameters.AddWithValue("$id", idOrPrefix);
            command.Parameters.AddWithValue("$prefix", idOrPrefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
        }

        if (ids.Count == 0)
        {
            return null;
        }

        if (ids.Count > 1 && ids[0] != idOrPrefix)
        {
            throw new ConfigException($"session '{idOrPrefix}' is ambiguous: it starts {string.Join(", ", ids)}; give more of the id.");
        }

        return LoadExact(connection, ids[0]);
    }

    /// <summary>Gets the id of the session last written in <paramref name="directory"/>, or null.</summary>
    public string? LastId(string directory)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM sessions WHERE directory = $directory ORDER BY updated_at DESC LIMIT 1";
        command.Parameters.AddWithValue("$directory", directory);
        return command.ExecuteScalar() as string;
    }

    /// <summary>Lists sessions, the most recent first.</summary>
    public IReadOnlyList<SessionSummary> List(int limit = 50)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, started_at, updated_at, role, provider, model, directory, first_prompt, turns, cost_usd, unknown_cost_turns FROM sessions ORDER BY updated_at DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var result = new List<SessionSummary>();
        while (reader.Read())
        {
            result.Add(new SessionSummary(
                reader.GetString(0),
                ParseTime(reader.GetString(1)),
                ParseTime(reader.GetString(2)),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetInt32(8),
                (decimal)reader.GetDouble(9),
                reader.GetInt32(10)));
        }

        return result;
    }

    private Conversation LoadExact(SqliteConnection connection, string id)
    {
        Conversation conversation;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT started_at, role, provider, model, directory, first_prompt, turns, input_tokens, output_tokens, cost_usd, unknown_cost_turns FROM sessions WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            reader.Read();
            conversation = new Conversation(id, ParseTime(reader.GetString(0)), reader.GetString(4))
            {
                Role = reader.GetString(1),
                Provider = reader.GetString(2),
                Model = reader.IsDBNull(3) ? null : reader.GetString(3),
                FirstPrompt = reader.IsDBNull(5) ? null : reader.GetString(5),
                Turns = reader.GetInt32(6),
                InputTokens = reader.GetInt64(7),
                OutputTokens = reader.GetInt64(8),
                CostUsd = (decimal)reader.GetDouble(9),
                UnknownCostTurns = reader.GetInt32(10),
            };
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT json FROM messages WHERE session_id = $id ORDER BY seq";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (JsonSerializer.Deserialize<ChatMessage>(reader.GetString(0), AIJsonUtilities.DefaultOptions) is { } message)
                {
                    conversation.Messages.Add(message);
                }
            }
        }

        conversation.SavedCount = conversation.Messages.Count;
        return conversation;
    }

    private SqliteConnection Open()
    {
        _ = _initialized.Value;
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private bool Initialize()
    {
        var directory = Path.GetDirectoryName(DatabasePath)!;
        AllyPaths.EnsurePrivateDirectory(directory);
        if (!File.Exists(DatabasePath))
        {
            // Created empty with mode 600 before SQLite opens it, so that it is never readable by others.
            using (File.Create(DatabasePath))
            {
            }

            AllyPaths.MakePrivate(DatabasePath);
        }

        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS sessions (
                id TEXT PRIMARY KEY,
                started_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                role TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT,
                directory TEXT NOT NULL,
                first_prompt TEXT,
                turns INTEGER NOT NULL DEFAULT 0,
                input_tokens INTEGER NOT NULL DEFAULT 0,
                output_tokens INTEGER NOT NULL DEFAULT 0,
                cost_usd REAL NOT NULL DEFAULT 0,
                unknown_cost_turns INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS messages (
                session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                role TEXT NOT NULL,
                json TEXT NOT NULL,
                PRIMARY KEY (session_id, seq));
            CREATE INDEX IF NOT EXISTS sessions_by_directory ON sessions(directory, updated_at);
            """;
        command.ExecuteNonQuery();
        return true;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        command.ExecuteNonQuery();
    }

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
