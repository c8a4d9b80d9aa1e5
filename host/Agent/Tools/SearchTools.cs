using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.FileSystemGlobbing;

namespace Ally.Host.Agent.Tools;

/// <summary>Finding files by glob and searching their text, inside the working folder.</summary>
internal sealed class SearchTools
{
    internal const int MaxResults = 500;
    internal const int MaxMatches = 200;
    private const long MaxSearchedFileBytes = 2_000_000;

    private static readonly string[] SkippedFolders = ["**/.git/**", "**/node_modules/**", "**/bin/**", "**/obj/**"];

    private readonly Workspace _workspace;

    public SearchTools(Workspace workspace)
    {
        _workspace = workspace;
    }

    [Description("Finds files in the working folder whose path matches a glob pattern such as **/*.cs or src/**/test_*.py. Skips .git, node_modules, bin and obj.")]
    public string FindFiles(
        [Description("The glob pattern, relative to the folder searched.")] string pattern,
        [Description("Folder to search in, relative to the working folder (default: the working folder).")] string? path = null)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            throw new ToolException("a pattern is required, for example **/*.md.");
        }

        var folder = ResolveFolder(path);
        var files = Glob(folder, pattern).ToList();
        if (files.Count == 0)
        {
            return $"No files match '{pattern}'.";
        }

        var text = new StringBuilder();
        foreach (var file in files.Take(MaxResults))
        {
            text.Append(_workspace.Display(file)).Append('\n');
        }

        if (files.Count > MaxResults)
        {
            text.Append(CultureInfo.InvariantCulture, $"… [{files.Count - MaxResults} more files; narrow the pattern]\n");
        }

        return text.ToString();
    }

    [Description("Searches the text files of the working folder for a string or a regular expression and returns matching lines as path:line: text.")]
    public string SearchText(
        [Description("The text to look for (or a .NET regular expression when regex is true).")] string query,
        [Description("Folder to search in, relative to the working folder (default: the working folder).")] string? path = null,
        [Description("Only search files whose path matches this glob, for example **/*.cs (default: all files).")] string? glob = null,
        [Description("Treat query as a regular expression (default false).")] bool regex = false,
        [Description("Ignore case (default false).")] bool ignore_case = false)
    {
        if (string.IsNullOrEmpty(query))
        {
            throw new ToolException("a query is required.");
        }

        Regex? expression = null;
        if (regex)
        {
            try
            {
                expression = new Regex(query, (ignore_case ? RegexOptions.IgnoreCase : RegexOptions.None) | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                throw new ToolException($"the regular expression is invalid: {ex.Message}", ex);
            }
        }

        var comparison = ignore_case ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var folder = ResolveFolder(path);
        var text = new StringBuilder();
        var matches = 0;
        foreach (var file in Glob(folder, string.IsNullOrWhiteSpace(glob) ? "**/*" : glob))
        {
            var info = new FileInfo(file);
            if (info.Length > MaxSearchedFileBytes || IsOutside(file))
            {
                continue;
            }

            var bytes = File.ReadAllBytes(file);
            if (Array.IndexOf(bytes, (byte)0, 0, Math.Min(bytes.Length, 8000)) >= 0)
            {
                continue;
            }

            var lines = Encoding.UTF8.GetString(bytes).ReplaceLineEndings("\n").Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                bool hit;
                try
                {
                    hit = expression?.IsMatch(lines[i]) ?? lines[i].Contains(query, comparison);
                }
                catch (RegexMatchTimeoutException)
                {
                    throw new ToolException("the regular expression took too long; simplify it.");
                }

                if (!hit)
                {
                    continue;
                }

                if (++matches > MaxMatches)
                {
                    text.Append(CultureInfo.InvariantCulture, $"… [more than {MaxMatches} matches; narrow the search]\n");
                    return text.ToString();
                }

                var line = lines[i].Length > 300 ? lines[i][..300] + "…" : lines[i];
                text.Append(CultureInfo.InvariantCulture, $"{_workspace.Display(file)}:{i + 1}: {line}\n");
            }
        }

        return matches == 0 ? $"No matches for '{query}'." : text.ToString();
    }

    private string ResolveFolder(string? path)
    {
        var folder = _workspace.Resolve(string.IsNullOrWhiteSpace(path) ? "." : path);
        return Directory.Exists(folder) ? folder : throw new ToolException($"'{path}' is not a folder.");
    }

    private bool IsOutside(string file)
    {
        try
        {
            _workspace.Resolve(file);
            return false;
        }
        catch (ToolException)
        {
            return true;
        }
    }

    private IEnumerable<string> Glob(string folder, string pattern)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern.Replace('\\', '/'));
        matcher.AddExcludePatterns(SkippedFolders);
        var result = matcher.Execute(new ConfinedDirectory(new DirectoryInfo(folder), _workspace));
        return result.Files.Select(match => Path.GetFullPath(Path.Combine(folder, match.Path))).Order(StringComparer.Ordinal);
    }
}
