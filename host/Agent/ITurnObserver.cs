using Ally.Host.Agent.Tools;
using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>What the tool loop reports while a turn runs, for the terminal to show.</summary>
internal interface ITurnObserver
{
    /// <summary>A piece of answer text: a streamed piece, or a whole non-streamed answer.</summary>
    void OnText(string text);

    /// <summary>One model call finished; tool calls, if any, come next.</summary>
    void OnResponseCompleted(ChatResponse response);

    /// <summary>A tool call was decided and, when allowed, run.</summary>
    void OnToolResult(FunctionCallContent call, ToolDecision decision, string result);

    /// <summary>The loop stopped because the model kept calling tools after <paramref name="maxIterations"/> calls.</summary>
    void OnIterationLimit(int maxIterations);
}
