using System.Text;
using Spectre.Console;

namespace Ally.Host.Terminal;

/// <summary>
/// Reads the user's input key by key through Spectre's input: Enter submits, Backspace deletes, Up and Down walk
/// the history, Ctrl+D on an empty line means end of input, Ctrl+C clears the line. Multi-line input: a line ending
/// with <c>\</c> continues on the next line, and a line starting with <c>```</c> opens a block that runs until the
/// closing <c>```</c>. Keys already waiting after Enter (a paste) continue the input instead of submitting it.
/// </summary>
internal sealed class LineEditor
{
    private const string ContinuationPrompt = "[grey]…[/] ";

    private readonly IAnsiConsole _console;
    private readonly bool _detectPaste;
    private readonly List<string> _history = [];

    public LineEditor(IAnsiConsole console, bool detectPaste = false)
    {
        _console = console;
        _detectPaste = detectPaste;
    }

    /// <summary>Reads one message, possibly several lines; null at end of input (Ctrl+D).</summary>
    public async Task<string?> ReadMessageAsync(string promptMarkup, CancellationToken cancellationToken = default)
    {
        var first = await ReadLineAsync(promptMarkup, cancellationToken);
        if (first is null)
        {
            return null;
        }

        var text = new StringBuilder();
        if (first.TrimStart().StartsWith("```", StringComparison.Ordinal) && !IsClosedFence(first))
        {
            text.Append(first);
            while (await ReadLineAsync(ContinuationPrompt, cancellationToken) is { } line)
            {
                text.Append('\n').Append(line);
                if (line.Trim() == "```")
                {
                    break;
                }
            }
        }
        else
        {
            var line = first;
            while (line.EndsWith('\\'))
            {
                text.Append(line, 0, line.Length - 1).Append('\n');
                line = await ReadLineAsync(ContinuationPrompt, cancellationToken) ?? string.Empty;
            }

            text.Append(line);
        }

        var message = text.ToString();
        if (message.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != message))
        {
            _history.Add(message);
        }

        return message;
    }

    /// <summary>Reads one line; null at end of input.</summary>
    public async Task<string?> ReadLineAsync(string promptMarkup, CancellationToken cancellationToken = default, bool secret = false)
    {
        _console.Markup(promptMarkup);
        var buffer = new StringBuilder();
        var historyIndex = _history.Count;
        while (true)
        {
            var read = await _console.Input.ReadKeyAsync(intercept: true, cancellationToken);
            if (read is not { } key)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _console.WriteLine();
                return buffer.Length > 0 ? buffer.ToString() : null;
            }

            if (IsControl(key, ConsoleKey.D, '\u0004'))
            {
                if (buffer.Length == 0)
                {
                    _console.WriteLine();
                    return null;
                }

                continue;
            }

            if (IsControl(key, ConsoleKey.C, '\u0003'))
            {
                _console.WriteLine("^C");
                return string.Empty;
            }

            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    if (_detectPaste && _console.Input.IsKeyAvailable())
                    {
                        // More keys are already waiting: a pasted block, whose line breaks belong to the message.
                        buffer.Append('\n');
                        _console.WriteLine();
                        continue;
                    }

                    _console.WriteLine();
                    return buffer.ToString();
                case ConsoleKey.Backspace:
                    if (buffer.Length > 0)
                    {
                        var removed = buffer[^1];
                        buffer.Length--;
                        if (removed != '\n')
                        {
                            _console.Write(new Text("\b \b"));
                        }
                    }

                    continue;
                case ConsoleKey.UpArrow when historyIndex > 0 && !secret:
                    historyIndex--;
                    Replace(buffer, _history[historyIndex]);
                    continue;
                case ConsoleKey.DownArrow when historyIndex < _history.Count && !secret:
                    historyIndex++;
                    Replace(buffer, historyIndex == _history.Count ? string.Empty : _history[historyIndex]);
                    continue;
                case ConsoleKey.Tab:
                    buffer.Append("    ");
                    _console.Write(new Text("    "));
                    continue;
            }

            if (key.KeyChar != '\0' && !char.IsControl(key.KeyChar))
            {
                buffer.Append(key.KeyChar);
                _console.Write(new Text(secret ? "*" : key.KeyChar.ToString()));
            }
        }
    }

    private void Replace(StringBuilder buffer, string text)
    {
        var erase = buffer.ToString().Split('\n')[^1].Length;
        if (erase > 0)
        {
            _console.Write(new Text(new string('\b', erase) + new string(' ', erase) + new string('\b', erase)));
        }

        buffer.Clear().Append(text);
        _console.Write(new Text(text.Replace('\n', ' ')));
    }

    private static bool IsControl(ConsoleKeyInfo key, ConsoleKey letter, char controlChar) =>
        key.KeyChar == controlChar || (key.Key == letter && key.Modifiers.HasFlag(ConsoleModifiers.Control));

    private static bool IsClosedFence(string line)
    {
        var trimmed = line.Trim();
        return trimmed.Length > 6 && trimmed.EndsWith("```", StringComparison.Ordinal);
    }
}
