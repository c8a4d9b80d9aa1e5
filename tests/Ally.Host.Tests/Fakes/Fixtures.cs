namespace Ally.Host.Tests.Fakes;

/// <summary>Finds the recorded provider responses in ../shared/fixtures, which only some machines have.</summary>
public static class Fixtures
{
    /// <summary>Gets the fixtures folder, or <see langword="null"/> when this machine has none.</summary>
    public static string? Root { get; } = Find();

    /// <summary>Reads a fixture file, or returns <see langword="null"/> when the folder or file is missing (skip the test then).</summary>
    public static string? Read(string relativePath)
    {
        if (Root is null)
        {
            return null;
        }

        var path = Path.Combine(Root, relativePath);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
