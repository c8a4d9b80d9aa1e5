using Ally.Host.Agent.Tools;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace Ally.Host.Terminal;

/// <summary>
/// Asks before a tool runs, with one key: <c>y</c> allow once, <c>n</c> deny, <c>r</c> deny and say why,
/// <c>t</c> always allow this tool, <c>a</c> always allow all tools (both for the session).
/// </summary>
internal sealed class ConsoleToolPrompter : IToolPrompter
{
    private readonly IAnsiConsole _console;
    private readonly LineEditor _editor;

    public ConsoleToolPrompter(IAnsiConsole console, LineEditor editor)
    {
        _console = console;
        _editor = editor;
    }

    public async Task<PermissionAnswer> AskAsync(FunctionCallContent call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        _console.Write(new Text("⚙ " + ToolCallFormatter.Describe(call) + "\n", new Style(Color.Yellow)));
        if (ToolCallFormatter.Preview(call) is { } preview)
        {
            _console.Write(new Panel(new Text(preview, new Style(Color.Grey))).BorderColor(Color.Grey).Expand());
        }

        _console.Markup("  Allow? [bold]y[/] once · [bold]n[/] no · [bold]r[/] no, with a reason · [bold]t[/] always this tool · [bold]a[/] always all tools: ");
        while (true)
        {
            var read = await _console.Input.ReadKeyAsync(intercept: true, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            if (read is not { } key || key.KeyChar == '\u0004')
            {
                throw new InvalidOperationException("the input ended before the question was answered.");
            }

            switch (char.ToLowerInvariant(key.KeyChar))
            {
                case 'y':
                case '\r':
                case '\n':
                    _console.WriteLine("yes");
                    return new PermissionAnswer(PermissionChoice.AllowOnce);
                case 'n':
                case '\u001b':
                    _console.WriteLine("no");
                    return new PermissionAnswer(PermissionChoice.Deny);
                case 'r':
                    _console.WriteLine("no");
                    var reason = await _editor.ReadLineAsync("  [grey]Why not? (told to the model):[/] ", cancellationToken);
                    return new PermissionAnswer(PermissionChoice.Deny, reason);
                case 't':
                    _console.WriteLine($"always {call.Name}");
                    return new PermissionAnswer(PermissionChoice.AlwaysAllowTool);
                case 'a':
                    _console.WriteLine("always, all tools");
                    return new PermissionAnswer(PermissionChoice.AlwaysAllowAll);
            }
        }
    }
}
