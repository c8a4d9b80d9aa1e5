using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>
/// One chat session's state: its id, what it talks to, its messages (without the system prompt, which follows the
/// role) and running totals. Saved to the sessions database after every turn.
/// </summary>
internal sealed class Conversation
{
    public Conversation(string id, DateTimeOffset startedAt, string directory)
    {
        Id = id;
        StartedAt = startedAt;
        Directory = directory;
    }

    public string Id { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Gets the working folder the session ran in.</summary>
    public string Directory { get; }

    public required string Role { get; set; }

    public required string Provider { get; set; }

    public string? Model { get; set; }

    public double? Temperature { get; set; }

    public List<ChatMessage> Messages { get; } = [];

    public string? FirstPrompt { get; set; }

    public int Turns { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    /// <summary>Gets or sets the cost of the turns whose cost is known.</summary>
    public decimal CostUsd { get; set; }

    /// <summary>Gets or sets how many turns had no known cost.</summary>
    public int UnknownCostTurns { get; set; }

    /// <summary>Gets or sets how many of <see cref="Messages"/> the database already holds unchanged.</summary>
    public int SavedCount { get; set; }

    /// <summary>Drops messages from <paramref name="index"/> on, remembering that the database must drop them too.</summary>
    public void TruncateFrom(int index)
    {
        if (index < Messages.Count)
        {
            Messages.RemoveRange(index, Messages.Count - index);
        }

        SavedCount = Math.Min(SavedCount, Messages.Count);
    }

    /// <summary>Adds one completed turn's usage and cost to the totals.</summary>
    public void Record(TurnResult turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        Turns++;
        InputTokens += turn.Usage?.InputTokenCount ?? 0;
        OutputTokens += turn.Usage?.OutputTokenCount ?? 0;
        if (turn.CostUsd is { } cost)
        {
            CostUsd += cost;
        }
        else
        {
            UnknownCostTurns++;
        }
    }
}
