using Ally.Host.Agent.Tools;
using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>An observer that ignores everything.</summary>
internal sealed class NullTurnObserver : ITurnObserver
{
    public static NullTurnObserver Instance { get; } = new();

    public void OnText(string text)
    {
    }

    public void OnResponseCompleted(ChatResponse response)
    {
    }

    public void OnToolResult(FunctionCallContent call, ToolDecision decision, string result)
    {
    }

    public void OnIterationLimit(int maxIterations)
    {
    }
}
