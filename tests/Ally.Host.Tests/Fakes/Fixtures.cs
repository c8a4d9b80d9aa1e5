using Xunit.Sdk;

namespace Ally.Host.Tests.Fakes;

/// <summary>Finds the recorded provider responses in ../shared/fixtures, which only some machines have.</summary>
public static class Fixtures
{
    /// <summary>Gets the fixtures folder, or <see langword="null"/> when this machine has none.</summary>
    public static string? Root { get; } = Find();

    /// <summary>Reads a fixture file, or returns <see langword="null"/> when this one file is missing.</summary>
    /// <remarks>Without the fixtures folder the calling test is reported as skipped, never as passed.</remarks>
    public static string? Read(string relativePath)
    {
        var path = Path.Combine(RootOrSkip(), relativePath);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    /// <summary>Gets the fixtures folder, or skips the calling test when this machine has none.</summary>
    public static string RootOrSkip() =>
        Root ?? throw SkipException.ForSkip("../shared/fixtures (recorded provider traffic) is not on this machine.");

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
