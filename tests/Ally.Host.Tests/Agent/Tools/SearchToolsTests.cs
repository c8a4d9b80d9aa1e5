using Ally.Host.Agent.Tools;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Agent.Tools;

public sealed class SearchToolsTests : IDisposable
{
    private readonly TempFolder _work = new();
    private readonly SearchTools _search;

    public SearchToolsTests()
    {
        _search = new SearchTools(new Workspace(_work.Path));
        _work.Write("src/a.cs", "class A { int Answer = 42; }\n");
        _work.Write("src/deep/b.cs", "class B { }\n// answer here\n");
        _work.Write("docs/readme.md", "The answer is 42.\n");
        _work.Write(".git/config", "answer in git internals\n");
        _work.Write("obj/gen.cs", "answer generated\n");
    }

    public void Dispose() => _work.Dispose();

    [Fact]
    public void FindFiles_Glob_ListsMatchesAndSkipsBuildAndGitFolders()
    {
        // When
        var text = _search.FindFiles("**/*.cs");

        // Then
        Assert.Equal("src/a.cs\nsrc/deep/b.cs\n", text);
    }

    [Fact]
    public void FindFiles_LinksAndParentPatterns_NeverListFilesOutside()
    {
        // Given a folder outside the working folder, a link to it, a link to one of its files, and a link that loops
        using var outside = new TempFolder();
        var secret = outside.Write("secret.txt", "outside\n");
        Directory.CreateSymbolicLink(_work.Combine("escape"), outside.Path);
        File.CreateSymbolicLink(_work.Combine("src", "leak.cs"), secret);
        Directory.CreateSymbolicLink(_work.Combine("src", "loop"), _work.Path);

        // When files are looked for everywhere, through the link, and above the working folder
        var everything = _search.FindFiles("**/*");
        var throughLink = _search.FindFiles("escape/**/*");
        var above = _search.FindFiles("../**/*");

        // Then only the working folder's own files are listed, and the looping link ends
        Assert.Equal("docs/readme.md\nsrc/a.cs\nsrc/deep/b.cs\n", everything);
        Assert.StartsWith("No files match", throughLink, StringComparison.Ordinal);
        Assert.StartsWith("No files match", above, StringComparison.Ordinal);
        Assert.StartsWith("No matches", _search.SearchText("outside"), StringComparison.Ordinal);
    }

    [Fact]
    public void FindFiles_NoMatch_SaysSo()
    {
        // When / Then
        Assert.Equal("No files match '*.py'.", _search.FindFiles("*.py"));
    }

    [Fact]
    public void SearchText_PlainIgnoringCase_ReturnsPathLineAndText()
    {
        // When
        var text = _search.SearchText("answer", ignore_case: true);

        // Then
        Assert.Contains("docs/readme.md:1: The answer is 42.", text, StringComparison.Ordinal);
        Assert.Contains("src/a.cs:1: class A { int Answer = 42; }", text, StringComparison.Ordinal);
        Assert.Contains("src/deep/b.cs:2: // answer here", text, StringComparison.Ordinal);
        Assert.DoesNotContain(".git", text, StringComparison.Ordinal);
        Assert.DoesNotContain("obj/", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SearchText_RegexWithGlob_OnlyMatchingFiles()
    {
        // When
        var text = _search.SearchText(@"\d+", glob: "**/*.md", regex: true);

        // Then
        Assert.Equal("docs/readme.md:1: The answer is 42.\n", text);
    }

    [Fact]
    public void SearchText_InvalidRegexOrOutsidePath_IsAnError()
    {
        // When / Then
        Assert.Throws<ToolException>(() => _search.SearchText("(", regex: true));
        Assert.Throws<ToolException>(() => _search.SearchText("x", path: ".."));
    }
}
