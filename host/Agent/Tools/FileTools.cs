using System.ComponentModel;
using System.Globalization;
using System.Text;

namespace Ally.Host.Agent.Tools;

/// <summary>The file tools: read, write, edit, delete, list. Every path goes through <see cref="Workspace.Resolve"/>.</summary>
internal sealed class FileTools
{
    internal const int MaxReadChars = 100_000;
    internal const int MaxListEntries = 500;

    private readonly Workspace _workspace;

    public FileTools(Workspace workspace)
    {
        _workspace = workspace;
    }

    [Description("Reads a text file in the working folder. Returns its lines prefixed with line numbers.")]
    public string ReadFile(
        [Description("Path of the file, relative to the working folder.")] string path,
        [Description("First line to return, counting from 1 (default 1).")] int? offset = null,
        [Description("How many lines to return (default: all, up to the size cap).")] int? limit = null)
    {
        var full = _workspace.Resolve(path);
        if (Directory.Exists(full))
        {
            throw new ToolException($"'{path}' is a folder; use list_directory.");
        }

        if (!File.Exists(full))
        {
            throw new ToolException($"'{path}' does not exist.");
        }

        var bytes = File.ReadAllBytes(full);
        if (Array.IndexOf(bytes, (byte)0, 0, Math.Min(bytes.Length, 8000)) >= 0)
        {
            throw new ToolException($"'{path}' is a binary file ({bytes.Length} bytes); only text files can be read.");
        }

        var lines = Encoding.UTF8.GetString(bytes).ReplaceLineEndings("\n").Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0)
        {
            lines = lines[..^1];
        }

        var first = Math.Max(1, offset ?? 1);
        var count = Math.Max(0, limit ?? int.MaxValue);
        var text = new StringBuilder();
        var last = first - 1;
        for (var i = first - 1; i < lines.Length && i - (first - 1) < count; i++)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{i + 1,6}\t{lines[i]}\n");
            if (text.Length + line.Length > MaxReadChars)
            {
                text.Append(CultureInfo.InvariantCulture, $"… [cut at {MaxReadChars} characters: lines {i + 1} to {lines.Length} not shown; read them with offset={i + 1}]\n");
                return text.ToString();
            }

            text.Append(line);
            last = i + 1;
        }

        if (text.Length == 0)
        {
            return lines.Length == 0 ? $"('{path}' is empty)" : $"('{path}' has {lines.Length} lines; none from line {first})";
        }

        if (last < lines.Length)
        {
            text.Append(CultureInfo.InvariantCulture, $"… [{lines.Length - last} more lines]\n");
        }

        return text.ToString();
    }

    [Description("Creates or overwrites a text file in the working folder with the given content; creates missing folders.")]
    public string WriteFile(
        [Description("Path of the file, relative to the working folder.")] string path,
        [Description("The complete new content of the file.")] string content)
    {
        var full = _workspace.Resolve(path);
        if (Directory.Exists(full))
        {
            throw new ToolException($"'{path}' is a folder.");
        }

        var existed = File.Exists(full);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content ?? string.Empty, new UTF8Encoding(false));
        return $"{(existed ? "Overwrote" : "Created")} {_workspace.Display(full)} ({Encoding.UTF8.GetByteCount(content ?? string.Empty)} bytes).";
    }

    [Description("Edits a text file by replacing one exact piece of text with another. old_text must occur exactly once in the file; include enough surrounding lines to make it unique.")]
    public string EditFile(
        [Description("Path of the file, relative to the working folder.")] string path,
        [Description("The exact text to replace, including whitespace and line breaks.")] string old_text,
        [Description("The text to put in its place.")] string new_text)
    {
        var full = _workspace.Resolve(path);
        if (!File.Exists(full))
        {
            throw new ToolException($"'{path}' does not exist.");
        }

        if (string.IsNullOrEmpty(old_text))
        {
            throw new ToolException("old_text must not be empty; use write_file to create a file.");
        }

        var content = File.ReadAllText(full);
        var first = content.IndexOf(old_text, StringComparison.Ordinal);
        if (first < 0)
        {
            throw new ToolException($"old_text was not found in '{path}'; read the file and copy the text exactly.");
        }

        var count = 0;
        for (var at = first; at >= 0; at = content.IndexOf(old_text, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        if (count > 1)
        {
            throw new ToolException($"old_text occurs {count} times in '{path}'; include more surrounding text so that it occurs once.");
        }

        var updated = string.Concat(content.AsSpan(0, first), new_text ?? string.Empty, content.AsSpan(first + old_text.Length));
        File.WriteAllText(full, updated, new UTF8Encoding(false));
        var line = content.AsSpan(0, first).Count('\n') + 1;
        return $"Edited {_workspace.Display(full)} at line {line}.";
    }

    [Description("Deletes a file in the working folder (not a folder).")]
    public string DeleteFile([Description("Path of the file, relative to the working folder.")] string path)
    {
        var full = _workspace.Resolve(path);
        if (Directory.Exists(full) && new DirectoryInfo(full).LinkTarget is null)
        {
            throw new ToolException($"'{path}' is a folder; only files can be deleted.");
        }

        if (!File.Exists(full) && new FileInfo(full).LinkTarget is null)
        {
            throw new ToolException($"'{path}' does not exist.");
        }

        File.Delete(full);
        return $"Deleted {_workspace.Display(full)}.";
    }

    [Description("Lists a folder in the working folder: sub-folders (ending with /) and files with their sizes.")]
    public string ListDirectory([Description("Folder to list, relative to the working folder (default: the working folder).")] string? path = null)
    {
        var full = _workspace.Resolve(string.IsNullOrWhiteSpace(path) ? "." : path);
        if (!Directory.Exists(full))
        {
            throw new ToolException($"'{path}' is not a folder.");
        }

        var directory = new DirectoryInfo(full);
        var entries = directory.EnumerateFileSystemInfos()
            .OrderBy(e => e is FileInfo)
            .ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
        var text = new StringBuilder();
        foreach (var entry in entries.Take(MaxListEntries))
        {
            text.Append(entry switch
            {
                DirectoryInfo d => d.Name + "/",
                FileInfo f when f.LinkTarget is { } target => $"{f.Name} -> {target}",
                FileInfo f => string.Create(CultureInfo.InvariantCulture, $"{f.Name}  ({f.Length} bytes)"),
                _ => entry.Name,
            }).Append('\n');
        }

        if (entries.Count > MaxListEntries)
        {
            text.Append(CultureInfo.InvariantCulture, $"… [{entries.Count - MaxListEntries} more entries]\n");
        }

        return text.Length == 0 ? "(empty folder)" : text.ToString();
    }
}
