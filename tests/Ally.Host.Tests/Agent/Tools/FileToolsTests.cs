using Ally.Host.Agent.Tools;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Agent.Tools;

public sealed class FileToolsTests : IDisposable
{
    private readonly TempFolder _work = new();
    private readonly FileTools _files;

    public FileToolsTests()
    {
        _files = new FileTools(new Workspace(_work.Path));
    }

    public void Dispose() => _work.Dispose();

    [Fact]
    public void ReadFile_WithOffsetAndLimit_ReturnsNumberedLines()
    {
        // Given
        _work.Write("a.txt", "one\ntwo\nthree\nfour\n");

        // When
        var text = _files.ReadFile("a.txt", offset: 2, limit: 2);

        // Then
        Assert.Contains("     2\ttwo", text, StringComparison.Ordinal);
        Assert.Contains("     3\tthree", text, StringComparison.Ordinal);
        Assert.DoesNotContain("one", text, StringComparison.Ordinal);
        Assert.Contains("[1 more lines]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFile_LargeFile_IsCutWithANote()
    {
        // Given a file far over the cap
        _work.Write("big.txt", string.Join('\n', Enumerable.Range(0, 20_000).Select(i => $"line {i} with some text")));

        // When
        var text = _files.ReadFile("big.txt");

        // Then
        Assert.True(text.Length <= FileTools.MaxReadChars + 200);
        Assert.Contains("cut at", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFile_BinaryOrMissing_IsAnError()
    {
        // Given
        File.WriteAllBytes(_work.Combine("b.bin"), [1, 0, 2]);

        // When / Then
        Assert.Contains("binary", Assert.Throws<ToolException>(() => _files.ReadFile("b.bin")).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ToolException>(() => _files.ReadFile("nope.txt")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteFile_NewFileInNewFolder_CreatesBoth()
    {
        // When
        var result = _files.WriteFile("src/app/main.py", "print('hi')\n");

        // Then
        Assert.Equal("print('hi')\n", File.ReadAllText(_work.Combine("src", "app", "main.py")));
        Assert.StartsWith("Created src/app/main.py", result, StringComparison.Ordinal);
    }

    [Fact]
    public void EditFile_UniqueText_IsReplaced()
    {
        // Given
        _work.Write("c.cs", "int a = 1;\nint b = 2;\n");

        // When
        var result = _files.EditFile("c.cs", "int b = 2;", "int b = 3;");

        // Then
        Assert.Equal("int a = 1;\nint b = 3;\n", File.ReadAllText(_work.Combine("c.cs")));
        Assert.Contains("line 2", result, StringComparison.Ordinal);
    }

    [Fact]
    public void EditFile_TextMissingOrRepeated_IsRefusedAndTheFileKept()
    {
        // Given
        _work.Write("c.cs", "x = 1\nx = 1\n");

        // When
        var missing = Assert.Throws<ToolException>(() => _files.EditFile("c.cs", "y = 2", "z"));
        var repeated = Assert.Throws<ToolException>(() => _files.EditFile("c.cs", "x = 1", "x = 2"));

        // Then
        Assert.Contains("not found", missing.Message, StringComparison.Ordinal);
        Assert.Contains("occurs 2 times", repeated.Message, StringComparison.Ordinal);
        Assert.Equal("x = 1\nx = 1\n", File.ReadAllText(_work.Combine("c.cs")));
    }

    [Fact]
    public void DeleteFile_File_IsDeleted_FolderIsRefused()
    {
        // Given
        _work.Write("d/e.txt", "x");

        // When
        _files.DeleteFile("d/e.txt");

        // Then
        Assert.False(File.Exists(_work.Combine("d", "e.txt")));
        Assert.Throws<ToolException>(() => _files.DeleteFile("d"));
        Assert.Throws<ToolException>(() => _files.DeleteFile("."));
    }

    [Fact]
    public void ListDirectory_ShowsFoldersFirstThenFilesWithSizes()
    {
        // Given
        _work.Write("z.txt", "12345");
        Directory.CreateDirectory(_work.Combine("a-folder"));

        // When
        var text = _files.ListDirectory();

        // Then
        Assert.Equal("a-folder/\nz.txt  (5 bytes)\n", text);
    }
}
