namespace Ally.Host.Configuration;

/// <summary>Where Ally keeps its own data: the sessions database, the usage store and the logs.</summary>
internal static class AllyPaths
{
    public const string HomeVariable = "ALLY_HOME";

    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Gets the data folder: <c>$ALLY_HOME</c>, else <c>$XDG_DATA_HOME/ally</c>, else <c>~/.local/share/ally</c>
    /// (the XDG base directory default, also used on macOS and Windows so that one path is documented).
    /// </summary>
    public static string DataDirectory(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        if (getVariable(HomeVariable) is { Length: > 0 } home)
        {
            return Path.GetFullPath(home);
        }

        if (getVariable("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "ally");
        }

        var profile = getVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(profile, ".local", "share", "ally");
    }

    /// <summary>Creates a folder readable only by the user (mode 700 on Unix) and returns its path.</summary>
    public static string EnsurePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else if (!Directory.Exists(path))
        {
            // Parents created here are Ally's too (the data folder above logs/), so they get mode 700 as well.
            if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path)) is { Length: > 0 } parent && !Directory.Exists(parent))
            {
                EnsurePrivateDirectory(parent);
            }

            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }

        return path;
    }

    /// <summary>Makes a file readable and writable only by the user (mode 600 on Unix).</summary>
    public static void MakePrivate(string file)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(file))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
