namespace Ally.Host.Tests.Fakes;

/// <summary>A temporary plugins folder that tests fill with the real test-plugin DLLs built under tests/TestPlugins/bin.</summary>
public sealed class TestPluginFolder : IDisposable
{
    public TestPluginFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "ally-tests", Guid.NewGuid().ToString("N"));
        Plugins = Path.Combine(Root, "plugins");
        Directory.CreateDirectory(Plugins);
    }

    /// <summary>Gets a temporary folder that can hold config.json and .env.</summary>
    public string Root { get; }

    /// <summary>Gets the plugins folder inside <see cref="Root"/>.</summary>
    public string Plugins { get; }

    /// <summary>Gets the build output folder of a test plugin project.</summary>
    public static string BuildOutput(string project)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "TestPlugins", "bin", project);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"Build output of {project} not found; build tests/Ally.Host.Tests first.");
    }

    /// <summary>Drops a plugin in its folder form: plugins/&lt;Project&gt;/ with all its files.</summary>
    public string AddFolder(string project, string? folderName = null)
    {
        var target = Path.Combine(Plugins, folderName ?? project);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(BuildOutput(project)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        return target;
    }

    /// <summary>Drops a plugin in its single-file form: plugins/&lt;Project&gt;.dll.</summary>
    public string AddSingleFile(string project)
    {
        var target = Path.Combine(Plugins, project + ".dll");
        File.Copy(Path.Combine(BuildOutput(project), project + ".dll"), target, overwrite: true);
        return target;
    }

    public void WriteConfig(string json) => File.WriteAllText(Path.Combine(Root, "config.json"), json);

    public void WriteEnv(string text) => File.WriteAllText(Path.Combine(Root, ".env"), text);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A loaded plugin may still hold its file open on some systems; the temp folder is cleaned eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
