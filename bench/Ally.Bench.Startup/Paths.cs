namespace Ally.Bench.Startup;

/// <summary>Where the repository and the built host are.</summary>
internal static class Paths
{
    public static string RepositoryRoot { get; } = Find();

    public static string HostDll => Path.Combine(RepositoryRoot, "host", "bin", "Release", "net10.0", "Ally.Host.dll");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ally.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Run the benchmark from inside the repository.");
    }
}
