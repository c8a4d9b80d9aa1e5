namespace Ally.Host.Agent.Tools;

/// <summary>Whether a tool call runs, and when it does not, the sentence the model is told.</summary>
internal sealed record ToolDecision(bool Allowed, string? DenialMessage = null)
{
    public static ToolDecision Allow { get; } = new(true);

    public static ToolDecision Deny(string message) => new(false, message);
}
