using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Ally.Host.Terminal;
using Microsoft.Extensions.AI;

namespace Ally.Host.Cli;

/// <summary>Shows a one-shot turn: the answer on stdout as it streams, tool activity on stderr.</summary>
internal sealed class PromptTurnObserver : ITurnObserver
{
    private readonly StandardStreams _streams;
    private readonly bool _json;
    private readonly System.Text.StringBuilder _text = new();

    public PromptTurnObserver(StandardStreams streams, bool json)
    {
        _streams = streams;
        _json = json;
    }

    /// <summary>Gets the answer text shown so far.</summary>
    public string Text => _text.ToString();

    public void OnText(string text)
    {
        _text.Append(text);
        if (!_json)
        {
            _streams.Output.Write(text);
        }
    }

    public void OnResponseCompleted(ChatResponse response)
    {
        if (!_json && _text.Length > 0 && _text[^1] != '\n' && response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Any())
        {
            _streams.Output.WriteLine();
            _text.Append('\n');
        }
    }

    public void OnToolResult(FunctionCallContent call, ToolDecision decision, string result) =>
        _streams.Error.WriteLine(decision.Allowed
            ? $"tool: {ToolCallFormatter.Describe(call)} → {ToolCallFormatter.Summarize(result)}"
            : $"tool: {ToolCallFormatter.Describe(call)} not run: {ToolCallFormatter.Summarize(result)}");

    public void OnIterationLimit(int maxIterations) =>
        _streams.Error.WriteLine($"note: stopped after {maxIterations} model calls (tools.max_iterations in config.json).");
}
