using System.Text;
using Spectre.Console;

namespace Ally.Host.Terminal;

/// <summary>
/// Shows a streamed Markdown answer as it arrives, piece by piece, in a form that reads well in a terminal: fenced
/// code blocks in their own colour between dim fence lines, headings bold, <c>**bold**</c> and <c>`code`</c> styled
/// without their markers, list bullets as •. Only the first few characters of a line are held back, until it is
/// clear what kind of line it is; everything else is written the moment it arrives.
/// </summary>
internal sealed class MarkdownStreamWriter
{
    private static readonly Style CodeStyle = new(Color.Aqua);
    private static readonly Style FenceStyle = new(Color.Grey, decoration: Decoration.Dim);
    private static readonly Style HeadingStyle = new(Color.Yellow, decoration: Decoration.Bold);
    private static readonly Style BoldStyle = new(decoration: Decoration.Bold);
    private static readonly Style QuoteStyle = new(Color.Grey, decoration: Decoration.Italic);

    private readonly IAnsiConsole _console;
    private readonly StringBuilder _lineStart = new();
    private readonly List<(string Text, Style Style)> _pending = [];
    private LineKind _kind;
    private bool _decided;
    private bool _inCodeBlock;
    private bool _inlineCode;
    private bool _bold;
    private bool _pendingStar;
    private bool _atLineStart = true;

    public MarkdownStreamWriter(IAnsiConsole console)
    {
        _console = console;
    }

    private enum LineKind
    {
        Text,
        Fence,
        Code,
        Heading,
        Quote,
    }

    /// <summary>Gets a value indicating whether anything was written since the last <see cref="Complete"/>.</summary>
    public bool HasOutput { get; private set; }

    public void Write(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        foreach (var c in piece)
        {
            Process(c);
        }

        Flush();
    }

    /// <summary>Ends the answer: writes what is held back and ends the last line.</summary>
    public void Complete()
    {
        if (!_decided && _lineStart.Length > 0)
        {
            Decide();
        }

        if (_kind == LineKind.Fence)
        {
            EndFence();
        }

        if (_pendingStar)
        {
            Emit("*");
            _pendingStar = false;
        }

        if (!_atLineStart)
        {
            Emit("\n");
        }

        Flush();
        _decided = false;
        _kind = LineKind.Text;
        _inCodeBlock = _inlineCode = _bold = false;
        _atLineStart = true;
        HasOutput = false;
    }

    private void Process(char c)
    {
        if (c == '\r')
        {
            return;
        }

        if (c == '\n')
        {
            if (!_decided)
            {
                Decide();
            }

            if (_kind == LineKind.Fence)
            {
                EndFence();
            }

            if (_pendingStar)
            {
                Emit("*");
                _pendingStar = false;
            }

            Emit("\n");
            _decided = false;
            _kind = LineKind.Text;
            _inlineCode = _bold = false;
            _lineStart.Clear();
            return;
        }

        if (!_decided)
        {
            _lineStart.Append(c);
            if (CanDecide())
            {
                Decide();
            }

            return;
        }

        Add(c);
    }

    private bool CanDecide()
    {
        var trimmed = _lineStart.ToString().TrimStart();
        if (trimmed.Length == 0)
        {
            return false;
        }

        if (_inCodeBlock)
        {
            return trimmed[0] != '`' || trimmed.Length >= 3;
        }

        return trimmed.Length >= 3 || "`#*->+".IndexOf(trimmed[0], StringComparison.Ordinal) < 0;
    }

    private void Decide()
    {
        _decided = true;
        var start = _lineStart.ToString();
        _lineStart.Clear();
        var trimmed = start.TrimStart();
        var indent = start[..(start.Length - trimmed.Length)];
        if (trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            _kind = LineKind.Fence;
            _lineStart.Append(trimmed);
            return;
        }

        if (_inCodeBlock)
        {
            _kind = LineKind.Code;
            Emit(start, CodeStyle);
            return;
        }

        if (trimmed.StartsWith('#'))
        {
            _kind = LineKind.Heading;
            Emit(indent + trimmed.TrimStart('#').TrimStart(), HeadingStyle);
            return;
        }

        if (trimmed.StartsWith('>'))
        {
            _kind = LineKind.Quote;
            Emit(indent + "│ ", QuoteStyle);
            Inline(trimmed[1..].TrimStart());
            return;
        }

        _kind = LineKind.Text;
        if (trimmed.Length >= 2 && "-*+".Contains(trimmed[0], StringComparison.Ordinal) && trimmed[1] == ' ')
        {
            Emit(indent + "• ");
            Inline(trimmed[2..]);
            return;
        }

        Inline(start);
    }

    private void Add(char c)
    {
        switch (_kind)
        {
            case LineKind.Fence:
                _lineStart.Append(c);
                break;
            case LineKind.Code:
                Emit(c.ToString(), CodeStyle);
                break;
            case LineKind.Heading:
                Emit(c.ToString(), HeadingStyle);
                break;
            default:
                InlineChar(c);
                break;
        }
    }

    private void Inline(string text)
    {
        foreach (var c in text)
        {
            InlineChar(c);
        }
    }

    private void InlineChar(char c)
    {
        if (_pendingStar)
        {
            _pendingStar = false;
            if (c == '*')
            {
                _bold = !_bold;
                return;
            }

            Emit("*", CurrentStyle());
        }

        if (c == '`')
        {
            _inlineCode = !_inlineCode;
            return;
        }

        if (c == '*' && !_inlineCode)
        {
            _pendingStar = true;
            return;
        }

        Emit(c.ToString(), CurrentStyle());
    }

    private Style CurrentStyle() =>
        _inlineCode ? CodeStyle
        : _bold ? BoldStyle
        : _kind == LineKind.Quote ? QuoteStyle
        : Style.Plain;

    private void EndFence()
    {
        var fence = _lineStart.ToString();
        _lineStart.Clear();
        _inCodeBlock = !_inCodeBlock;
        Emit(fence, FenceStyle);
        _kind = LineKind.Text;
    }

    private void Emit(string text, Style? style = null)
    {
        if (text.Length == 0)
        {
            return;
        }

        style ??= Style.Plain;
        if (_pending.Count > 0 && _pending[^1].Style.Equals(style))
        {
            _pending[^1] = (_pending[^1].Text + text, style);
        }
        else
        {
            _pending.Add((text, style));
        }

        _atLineStart = text[^1] == '\n';
        HasOutput = true;
    }

    private void Flush()
    {
        foreach (var (text, style) in _pending)
        {
            _console.Write(new Text(text, style));
        }

        _pending.Clear();
    }
}
