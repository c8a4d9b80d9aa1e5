using System.Reflection;
using System.Runtime.Loader;

namespace Ally.Host.Plugins;

/// <summary>
/// An isolated load context for one plugin: its private dependencies load from its own folder, while the contract
/// (<c>Ally.Abstractions</c>, <c>Microsoft.Extensions.AI.Abstractions</c>) and the shared framework resolve from the
/// host, so that the plugin's <c>IChatClient</c> is the host's type even when the plugin ships its own copy.
/// </summary>
/// <remarks>The same split as DotNetCorePlugins' <c>PluginConfig.SharedAssemblies</c>, on the runtime's own API.</remarks>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly HashSet<string> ContractAssemblies = new(StringComparer.OrdinalIgnoreCase)
    {
        "Ally.Abstractions",
        "Microsoft.Extensions.AI.Abstractions",
    };

    private static readonly Lazy<HashSet<string>> FrameworkAssemblies = new(ReadFrameworkAssemblies);

    private readonly AssemblyDependencyResolver _resolver;

    public PluginLoadContext(string pluginPath)
        : base(name: $"plugin:{Path.GetFileNameWithoutExtension(pluginPath)}", isCollectible: false)
    {
        _resolver = new AssemblyDependencyResolver(pluginPath);
    }

    /// <summary>Gets whether an assembly is always taken from the host rather than from a plugin's folder.</summary>
    public static bool IsShared(AssemblyName name) =>
        name.Name is { } simple && (ContractAssemblies.Contains(simple) || FrameworkAssemblies.Value.Contains(simple));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (IsShared(assemblyName))
        {
            // Null defers to the default context, which holds the host's copy.
            return null;
        }

        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    private static HashSet<string> ReadFrameworkAssemblies()
    {
        // The shared frameworks (Microsoft.NETCore.App, Microsoft.AspNetCore.App) live under ".../shared/"; the
        // host's own NuGet dependencies do not, and those a plugin may carry in other versions.
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var sharedRoot = Path.GetDirectoryName(Path.GetDirectoryName(runtimeDirectory))!;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                if (path.StartsWith(sharedRoot, StringComparison.Ordinal))
                {
                    names.Add(Path.GetFileNameWithoutExtension(path));
                }
            }
        }

        return names;
    }
}
