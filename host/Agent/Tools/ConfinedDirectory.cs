using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace Ally.Host.Agent.Tools;

/// <summary>
/// A folder as the glob matcher walks it, kept inside the working folder: <c>..</c> in a pattern goes nowhere,
/// links leading out are not entered, and links to folders are not followed while walking (a link to an ancestor
/// would never end), while a file reached through a link inside the folder still is.
/// </summary>
internal sealed class ConfinedDirectory : DirectoryInfoBase
{
    private readonly DirectoryInfo _directory;
    private readonly Workspace _workspace;

    public ConfinedDirectory(DirectoryInfo directory, Workspace workspace)
    {
        _directory = directory;
        _workspace = workspace;
    }

    public override string Name => _directory.Name;

    public override string FullName => _directory.FullName;

    public override DirectoryInfoBase? ParentDirectory =>
        _directory.Parent is { } parent && IsInside(parent.FullName) ? new ConfinedDirectory(parent, _workspace) : null;

    public override IEnumerable<FileSystemInfoBase> EnumerateFileSystemInfos()
    {
        if (!_directory.Exists)
        {
            yield break;
        }

        IEnumerable<FileSystemInfo> entries;
        try
        {
            entries = _directory.EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 }).ToList();
        }
        catch (IOException)
        {
            yield break;
        }
        catch (UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var entry in entries)
        {
            if (entry.LinkTarget is not null && (entry is DirectoryInfo || !IsInside(entry.FullName)))
            {
                continue;
            }

            yield return entry switch
            {
                DirectoryInfo directory => new ConfinedDirectory(directory, _workspace),
                FileInfo file => new FileInfoWrapper(file),
                _ => throw new InvalidOperationException($"unexpected entry {entry.FullName}"),
            };
        }
    }

    public override DirectoryInfoBase? GetDirectory(string path)
    {
        var full = Path.GetFullPath(Path.Combine(_directory.FullName, path));
        return IsInside(full) && Directory.Exists(full) ? new ConfinedDirectory(new DirectoryInfo(full), _workspace) : null;
    }

    public override FileInfoBase? GetFile(string path)
    {
        var full = Path.GetFullPath(Path.Combine(_directory.FullName, path));
        return IsInside(full) ? new FileInfoWrapper(new FileInfo(full)) : null;
    }

    private bool IsInside(string path)
    {
        try
        {
            _workspace.Resolve(path);
            return true;
        }
        catch (ToolException)
        {
            return false;
        }
    }
}
