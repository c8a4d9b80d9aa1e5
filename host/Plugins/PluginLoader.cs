using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Ally.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Plugins;

/// <summary>
/// Scans the plugins folder, loads each plugin into its own <see cref="PluginLoadContext"/>, finds its
/// <see cref="IProviderPlugin"/> classes with Scrutor and creates them. A bad plugin becomes a warning, never a crash.
/// </summary>
/// <remarks>
/// Two layouts are accepted: <c>plugins/Foo.dll</c>, and <c>plugins/Foo/Foo.dll</c> with its dependencies beside it.
/// Files are inspected with System.Reflection.Metadata before loading, so a folder's dependency DLLs and assemblies that
/// never reference the contract cost nothing and are never mistaken for plugins.
/// </remarks>
internal sealed partial class PluginLoader
{
    private static readonly AssemblyName ContractName = typeof(IProviderPlugin).Assembly.GetName();

    private readonly ILogger _logger;
    private readonly string _displayBase;

    public PluginLoader(ILogger<PluginLoader> logger, string? displayBase = null)
    {
        _logger = logger;
        _displayBase = displayBase ?? Environment.CurrentDirectory;
    }

    public PluginCatalog Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            LogNoFolder(_logger, directory);
            return PluginCatalog.Empty(directory);
        }

        var warnings = new List<PluginWarning>();
        var candidates = FindCandidates(directory, warnings);
        var loaded = new List<LoadedPlugin>();
        foreach (var candidate in candidates)
        {
            loaded.AddRange(LoadFile(candidate, warnings));
        }

        var winners = new List<LoadedPlugin>();
        foreach (var group in loaded.GroupBy(p => p.Name, StringComparer.Ordinal))
        {
            var first = group.First();
            winners.Add(first);
            foreach (var loser in group.Skip(1))
            {
                warnings.Add(new PluginWarning(
                    loser.DisplayPath,
                    $"plugin '{loser.Name}' from {loser.DisplayPath} is ignored: {first.DisplayPath} also provides '{first.Name}' and wins (the first in alphabetical order of path). Remove one of them or rename its provider."));
            }
        }

        return new PluginCatalog(directory, winners, warnings);
    }

    private List<string> FindCandidates(string directory, List<PluginWarning> warnings)
    {
        var candidates = new List<string>();

        // Top-level DLLs: a DLL that another top-level plugin references is that plugin's dependency, not a plugin.
        var topLevel = Directory.GetFiles(directory, "*.dll").Order(StringComparer.Ordinal).ToList();
        var referencedByOthers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in topLevel)
        {
            if (TryReadReferences(file) is { } refs && refs.Any(r => r.Name == ContractName.Name))
            {
                referencedByOthers.UnionWith(refs.Select(r => r.Name!));
            }
        }

        foreach (var file in topLevel)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!referencedByOthers.Contains(name) && !PluginLoadContext.IsShared(new AssemblyName(name)))
            {
                candidates.Add(file);
            }
        }

        foreach (var folder in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var folderName = Path.GetFileName(folder);
            if (folderName.StartsWith('.'))
            {
                continue;
            }

            var main = Path.Combine(folder, folderName + ".dll");
            if (File.Exists(main))
            {
                candidates.Add(main);
            }
            else if (Directory.EnumerateFiles(folder, "*.csproj").Any())
            {
                warnings.Add(new PluginWarning(Display(folder), $"{Display(folder)} holds the sources of a plugin but no {folderName}.dll: build it with 'dotnet build' (the README's set-up command does)."));
            }
            else if (Directory.EnumerateFiles(folder, "*.dll").Any())
            {
                warnings.Add(new PluginWarning(Display(folder), $"{Display(folder)} has no {folderName}.dll: a plugin folder must hold a DLL named after the folder; rename the folder or the DLL."));
            }
        }

        return candidates;
    }

    private IEnumerable<LoadedPlugin> LoadFile(string path, List<PluginWarning> warnings)
    {
        var display = Display(path);
        var references = TryReadReferences(path);
        if (references is null)
        {
            warnings.Add(new PluginWarning(display, $"{display} is not a .NET assembly and was skipped: remove it from the plugins folder."));
            return [];
        }

        var contract = references.FirstOrDefault(r => r.Name == ContractName.Name);
        if (contract is null)
        {
            warnings.Add(new PluginWarning(display, $"{display} contains no provider (it does not reference Ally.Abstractions) and was skipped: remove it, or put it in its plugin's folder if it is a dependency."));
            return [];
        }

        if (contract.Version is { } version && !IsCompatible(version, ContractName.Version!))
        {
            warnings.Add(new PluginWarning(display, $"{display} was built against Ally.Abstractions {version}, but this host provides {ContractName.Version}: rebuild the plugin against Ally.Abstractions {ContractName.Version}{(version > ContractName.Version! ? ", or update Ally" : string.Empty)}."));
            return [];
        }

        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(path).LoadFromAssemblyPath(path);
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception ex)
#pragma warning restore CA1031
        {
            warnings.Add(new PluginWarning(display, $"{display} could not be loaded ({ex.Message}): rebuild it for .NET 10 against this host's Ally.Abstractions {ContractName.Version}, or remove it from the plugins folder."));
            return [];
        }

        List<Type> types;
        try
        {
            // Scrutor finds the provider classes, the card's choice; each assembly is scanned on its own so that one
            // broken plugin cannot hide the others.
            var services = new ServiceCollection();
            services.Scan(scan => scan.FromAssemblies(assembly)
                .AddClasses(classes => classes.AssignableTo<IProviderPlugin>(), publicOnly: false)
                .As<IProviderPlugin>()
                .WithSingletonLifetime());
            types = services.Select(s => s.ImplementationType).OfType<Type>().Distinct().OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception ex)
#pragma warning restore CA1031
        {
            warnings.Add(new PluginWarning(display, Explain(display, ex, "could not be scanned")));
            return [];
        }

        if (types.Count == 0)
        {
            warnings.Add(new PluginWarning(display, $"{display} contains no provider: no class in it implements IProviderPlugin. Remove it from the plugins folder."));
            return [];
        }

        var result = new List<LoadedPlugin>();
        foreach (var type in types)
        {
            try
            {
                var plugin = (IProviderPlugin)Activator.CreateInstance(type, nonPublic: true)!;
                var name = plugin.Name?.Trim().ToLowerInvariant();
                if (string.IsNullOrEmpty(name) || name.Any(char.IsWhiteSpace))
                {
                    warnings.Add(new PluginWarning(display, $"{type.FullName} in {display} has no usable Name and was skipped: its Name must be a non-empty lower-case word; fix the plugin or remove it from the plugins folder."));
                    continue;
                }

                _ = plugin.RequiredEnvVars ?? throw new InvalidOperationException("RequiredEnvVars returned null.");
                result.Add(new LoadedPlugin(plugin, name, path, display));
                LogLoaded(_logger, name, display);
            }
#pragma warning disable CA1031 // a plugin must not crash the host
            catch (Exception ex)
#pragma warning restore CA1031
            {
                warnings.Add(new PluginWarning(display, Explain(display, ex, $"failed to create {type.Name}")));
            }
        }

        return result;
    }

    /// <summary>
    /// Gets whether a plugin built against contract <paramref name="plugin"/> runs on this host's <paramref name="host"/>:
    /// the same major version, and not newer (a newer minor version may use members this host does not have).
    /// </summary>
    internal static bool IsCompatible(Version plugin, Version host) => plugin.Major == host.Major && plugin <= host;

    private static string Explain(string display, Exception ex, string what)
    {
        var inner = ex is TargetInvocationException { InnerException: { } i } ? i : ex;
        return inner switch
        {
            FileNotFoundException { FileName: { } missing } =>
                $"{display} {what}: it needs {new AssemblyName(missing).Name} ({new AssemblyName(missing).Version}), which is missing: put the plugin in its own folder with its dependencies (plugins/<Name>/, as 'dotnet publish' produces).",
            ReflectionTypeLoadException { LoaderExceptions: var loaderExceptions } when loaderExceptions.OfType<FileNotFoundException>().FirstOrDefault() is { FileName: { } missing } =>
                $"{display} {what}: it needs {new AssemblyName(missing).Name} ({new AssemblyName(missing).Version}), which is missing: put the plugin in its own folder with its dependencies (plugins/<Name>/, as 'dotnet publish' produces).",
            ReflectionTypeLoadException or TypeLoadException or MissingMethodException or MissingFieldException =>
                $"{display} {what}: it does not match this host's Ally.Abstractions {ContractName.Version} ({inner.Message}). Rebuild the plugin against this version.",
            _ when ex is TargetInvocationException =>
                $"{display} {what}: its constructor threw {inner.GetType().Name}: {inner.Message.TrimEnd('.')}. Fix the plugin (or what it needs to start), or remove it from the plugins folder.",
            _ => $"{display} {what}: {inner.GetType().Name}: {inner.Message.TrimEnd('.')}. Fix the plugin, or remove it from the plugins folder.",
        };
    }

    private static List<AssemblyName>? TryReadReferences(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return null;
            }

            var metadata = pe.GetMetadataReader();
            if (!metadata.IsAssembly)
            {
                return null;
            }

            return metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h).GetAssemblyName()).ToList();
        }
        catch (BadImageFormatException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private string Display(string path)
    {
        var relative = Path.GetRelativePath(_displayBase, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No plugins folder at {Directory}")]
    private static partial void LogNoFolder(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Loaded plugin '{Name}' from {Path}")]
    private static partial void LogLoaded(ILogger logger, string name, string path);
}
