using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ally.Host.Tests.Fakes;

/// <summary>
/// A Spectre console for tests (Spectre.Console.Testing is not available): writes plain text to a string, reads
/// keys from a <see cref="ScriptedInput"/>, and says it is interactive so prompts run.
/// </summary>
public sealed class TestTerminal : IAnsiConsole
{
    private readonly StringWriter _writer = new();
    private readonly IAnsiConsole _inner;

    public TestTerminal(ScriptedInput? input = null)
    {
        Keys = input ?? new ScriptedInput();
        _inner = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(new SynchronizedWriter(_writer)),
            Interactive = InteractionSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Ansi = AnsiSupport.No,
        });
        _inner.Profile.Width = 200;
    }

    public ScriptedInput Keys { get; }

    /// <summary>Gets everything written so far.</summary>
    public string Output
    {
        get
        {
            lock (_writer)
            {
                return _writer.ToString();
            }
        }
    }

    public Profile Profile => _inner.Profile;

    public IAnsiConsoleCursor Cursor => _inner.Cursor;

    public IAnsiConsoleInput Input => Keys;

    public IExclusivityMode ExclusivityMode => _inner.ExclusivityMode;

    public RenderPipeline Pipeline => _inner.Pipeline;

    public void Clear(bool home) => _inner.Clear(home);

    public void Write(IRenderable renderable) => _inner.Write(renderable);

    /// <summary>Serializes writes so that a test can read the output while the chat writes it.</summary>
    private sealed class SynchronizedWriter(StringWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            lock (inner)
            {
                inner.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (inner)
            {
                inner.Write(value);
            }
        }
    }
}
