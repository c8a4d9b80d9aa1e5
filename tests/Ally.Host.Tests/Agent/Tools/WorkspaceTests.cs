using Ally.Host.Agent.Tools;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Agent.Tools;

public sealed class WorkspaceTests : IDisposable
{
    private readonly TempFolder _root = new();
    private readonly string _work;
    private readonly string _outside;

    public WorkspaceTests()
    {
        _work = _root.Combine("work");
        _outside = _root.Combine("outside");
        Directory.CreateDirectory(_work);
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "do not read");
    }

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData("../outside/secret.txt")]
    [InlineData("sub/../../outside/secret.txt")]
    [InlineData("..")]
    public void Resolve_DotDotLeadingOut_IsRefused(string path)
    {
        // Given
        var workspace = new Workspace(_work);

        // When
        var error = Assert.Throws<ToolException>(() => workspace.Resolve(path));

        // Then
        Assert.Contains("outside the working folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_DotDotStayingInside_IsAccepted()
    {
        // Given
        var workspace = new Workspace(_work);

        // When
        var resolved = workspace.Resolve("a/../b.txt");

        // Then
        Assert.Equal(Path.Combine(_work, "b.txt"), resolved);
    }

    [Fact]
    public void Resolve_AbsolutePathOutside_IsRefused()
    {
        // Given
        var workspace = new Workspace(_work);

        // When / Then
        Assert.Throws<ToolException>(() => workspace.Resolve(Path.Combine(_outside, "secret.txt")));
        Assert.Throws<ToolException>(() => workspace.Resolve("/etc/passwd"));
    }

    [Fact]
    public void Resolve_AbsolutePathInside_IsAccepted()
    {
        // Given
        var workspace = new Workspace(_work);

        // When
        var resolved = workspace.Resolve(Path.Combine(_work, "x", "y.txt"));

        // Then
        Assert.Equal(Path.Combine(_work, "x", "y.txt"), resolved);
    }

    [Fact]
    public void Resolve_SymlinkedFolderLeadingOut_IsRefused()
    {
        // Given a link inside the folder to a folder outside it
        Directory.CreateSymbolicLink(Path.Combine(_work, "escape"), _outside);
        var workspace = new Workspace(_work);

        // When
        var error = Assert.Throws<ToolException>(() => workspace.Resolve("escape/secret.txt"));

        // Then
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SymlinkedFileLeadingOut_IsRefusedForReadAndWrite()
    {
        // Given a link to a file outside, and a dangling link to a file that does not exist yet outside
        File.CreateSymbolicLink(Path.Combine(_work, "secret.txt"), Path.Combine(_outside, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_work, "new.txt"), Path.Combine(_outside, "new.txt"));
        var files = new FileTools(new Workspace(_work));

        // When / Then
        Assert.Throws<ToolException>(() => files.ReadFile("secret.txt"));
        Assert.Throws<ToolException>(() => files.WriteFile("new.txt", "x"));
        Assert.Throws<ToolException>(() => files.WriteFile("secret.txt", "overwritten"));
        Assert.False(File.Exists(Path.Combine(_outside, "new.txt")));
        Assert.Equal("do not read", File.ReadAllText(Path.Combine(_outside, "secret.txt")));
    }

    [Fact]
    public void Resolve_ChainOfLinksLeadingOut_IsRefused()
    {
        // Given a link to a link inside that leads out
        Directory.CreateSymbolicLink(Path.Combine(_work, "hop2"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_work, "hop1"), Path.Combine(_work, "hop2"));
        var workspace = new Workspace(_work);

        // When / Then
        Assert.Throws<ToolException>(() => workspace.Resolve("hop1/secret.txt"));
    }

    [Fact]
    public void Resolve_SymlinkStayingInside_IsAccepted()
    {
        // Given
        Directory.CreateDirectory(Path.Combine(_work, "real"));
        File.WriteAllText(Path.Combine(_work, "real", "f.txt"), "inside");
        Directory.CreateSymbolicLink(Path.Combine(_work, "alias"), Path.Combine(_work, "real"));
        var files = new FileTools(new Workspace(_work));

        // When
        var text = files.ReadFile("alias/f.txt");

        // Then
        Assert.Contains("inside", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_WorkingFolderGivenThroughALink_AcceptsItsOwnFiles()
    {
        // Given the working folder itself reached through a link
        var link = _root.Combine("worklink");
        Directory.CreateSymbolicLink(link, _work);
        File.WriteAllText(Path.Combine(_work, "f.txt"), "x");
        var workspace = new Workspace(link);

        // When
        var resolved = workspace.Resolve("f.txt");

        // Then
        Assert.Equal(Path.Combine(link, "f.txt"), resolved);
        Assert.Throws<ToolException>(() => workspace.Resolve("../outside/secret.txt"));
    }
}
