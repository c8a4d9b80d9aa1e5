using Ally.Host.Terminal;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Terminal;

public sealed class MarkdownStreamWriterTests
{
    [Fact]
    public void Write_PiecesSplitAnywhere_RendersMarkdownForATerminal()
    {
        // Given Markdown cut into awkward pieces
        var terminal = new TestTerminal();
        var writer = new MarkdownStreamWriter(terminal);
        const string Markdown = "# Title\nSome **bold** and `code`.\n- one\n* two\n> quoted\n```cs\nvar x = a * b;\n```\nend";

        // When
        foreach (var piece in Chunk(Markdown, 3))
        {
            writer.Write(piece);
        }

        writer.Complete();

        // Then
        Assert.Equal("Title\nSome bold and code.\n• one\n• two\n│ quoted\n```cs\nvar x = a * b;\n```\nend\n", terminal.Output);
    }

    [Fact]
    public void Write_FirstPiece_IsShownBeforeTheLineEnds()
    {
        // Given
        var terminal = new TestTerminal();
        var writer = new MarkdownStreamWriter(terminal);

        // When
        writer.Write("Hello wor");

        // Then
        Assert.Equal("Hello wor", terminal.Output);
    }

    [Fact]
    public void Write_SingleStar_IsKept()
    {
        // Given
        var terminal = new TestTerminal();
        var writer = new MarkdownStreamWriter(terminal);

        // When
        writer.Write("2 * 3 = 6");
        writer.Complete();

        // Then
        Assert.Equal("2 * 3 = 6\n", terminal.Output);
    }

    private static IEnumerable<string> Chunk(string text, int size)
    {
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }
}
