namespace Ally.Host.Agent.Tools;

/// <summary>
/// The working folder the tools are confined to. A path is accepted only when both its text and its real location
/// (every symbolic link on the way resolved) lie inside the folder, so <c>..</c>, absolute paths elsewhere and links
/// pointing out are all refused.
/// </summary>
internal sealed class Workspace
{
    private const int MaxLinkDepth = 40;

    public Workspace(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"{root}: no such folder.");
        }

        Root = full;
        RealRoot = RealPath(full);
    }

    /// <summary>Gets the folder as given, made absolute.</summary>
    public string Root { get; }

    /// <summary>Gets the folder with every symbolic link resolved.</summary>
    public string RealRoot { get; }

    /// <summary>Resolves a path the model gave to an absolute path inside the folder, or throws a <see cref="ToolException"/>.</summary>
    public string Resolve(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ToolException("a path is required.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ToolException("the path contains a NUL character.");
        }

        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Root, path)));
        if (!IsInside(full, Root) && !IsInside(full, RealRoot))
        {
            throw new ToolException($"'{path}' is outside the working folder {Root}; only paths inside it can be used.");
        }

        string real;
        try
        {
            real = RealPath(full);
        }
        catch (IOException ex)
        {
            throw new ToolException($"'{path}' cannot be resolved: {ex.Message}", ex);
        }

        if (!IsInside(real, RealRoot))
        {
            throw new ToolException($"'{path}' leads outside the working folder through a symbolic link; only paths inside it can be used.");
        }

        return full;
    }

    /// <summary>Shows an absolute path inside the folder relative to it, with forward slashes.</summary>
    public string Display(string fullPath)
    {
        var relative = Path.GetRelativePath(Root, fullPath);
        return relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    private static bool IsInside(string path, string root)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(path, root, comparison)
            || path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, comparison);
    }

    /// <summary>
    /// Resolves every symbolic link along an absolute path, component by component (the part that does not exist yet
    /// is kept as written), the way <c>realpath -m</c> does.
    /// </summary>
    internal static string RealPath(string fullPath, int depth = 0)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException("too many levels of symbolic links.");
        }

        var root = Path.GetPathRoot(fullPath) ?? string.Empty;
        var current = root;
        var parts = fullPath[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in parts)
        {
            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                current = RealPath(Path.TrimEndingDirectorySeparator(Path.GetFullPath(target, current)), depth + 1);
            }
            else
            {
                current = next;
            }
        }

        return Path.TrimEndingDirectorySeparator(current.Length == 0 ? root : current);
    }
}
