using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>What one turn produced: every message it added, the usage and cost summed over its model calls.</summary>
internal sealed record TurnResult
{
    /// <summary>Gets the messages the turn added (assistant answers, tool calls and tool results), in order.</summary>
    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    /// <summary>Gets the last model call's response.</summary>
    public required ChatResponse LastResponse { get; init; }

    /// <summary>Gets the usage summed over the turn's model calls, when any call reported usage.</summary>
    public UsageDetails? Usage { get; init; }

    /// <summary>Gets the cost in USD summed over the calls, or null when a call's cost was not known.</summary>
    public decimal? CostUsd { get; init; }

    public int ModelCalls { get; init; }

    public int ToolCalls { get; init; }

    public bool IterationLimitReached { get; init; }

    /// <summary>Gets the assistant's answer text over the whole turn.</summary>
    public string Text => string.Concat(Messages.Where(m => m.Role == ChatRole.Assistant).Select(m => m.Text));

    /// <summary>Builds one response holding the whole turn, for the JSON result object.</summary>
    public ChatResponse ToChatResponse() => new([.. Messages])
    {
        ResponseId = LastResponse.ResponseId,
        ModelId = LastResponse.ModelId,
        CreatedAt = LastResponse.CreatedAt,
        FinishReason = LastResponse.FinishReason,
        Usage = Usage,
        AdditionalProperties = LastResponse.AdditionalProperties,
    };
}
