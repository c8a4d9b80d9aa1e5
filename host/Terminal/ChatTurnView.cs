using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace Ally.Host.Terminal;

/// <summary>Shows a running turn: the answer as it streams, each tool call and its outcome, the iteration limit.</summary>
internal sealed class ChatTurnView : ITurnObserver
{
    private readonly IAnsiConsole _console;
    private readonly MarkdownStreamWriter _writer;
    private readonly System.Text.StringBuilder _unsaved = new();

    public ChatTurnView(IAnsiConsole console)
    {
        _console = console;
        _writer = new MarkdownStreamWriter(console);
    }

    /// <summary>Gets the text shown since the last completed model call: what an interruption would lose.</summary>
    public string UnsavedText => _unsaved.ToString();

    public void OnText(string text)
    {
        _unsaved.Append(text);
        _writer.Write(text);
    }

    public void OnResponseCompleted(ChatResponse response)
    {
        _unsaved.Clear();
        _writer.Complete();
    }

    public void OnToolResult(FunctionCallContent call, ToolDecision decision, string result)
    {
        _writer.Complete();
        if (decision.Allowed)
        {
            var failed = result.StartsWith("Error:", StringComparison.Ordinal);
            _console.Write(new Text(
                $"{(failed ? "✗" : "✓")} {ToolCallFormatter.Describe(call)} → {ToolCallFormatter.Summarize(result)}\n",
                new Style(failed ? Color.Red : Color.Grey)));
        }
        else
        {
            _console.Write(new Text($"✗ {ToolCallFormatter.Describe(call)} not run: {ToolCallFormatter.Summarize(result)}\n", new Style(Color.Grey)));
        }
    }

    public void OnIterationLimit(int maxIterations)
    {
        _writer.Complete();
        _console.Write(new Text(
            $"Stopped after {maxIterations} model calls in this turn (tools.max_iterations in config.json). Say \"continue\" to let it go on.\n",
            new Style(Color.Yellow)));
    }

    /// <summary>Ends the answer's last line, whatever happened.</summary>
    public void Complete() => _writer.Complete();
}
