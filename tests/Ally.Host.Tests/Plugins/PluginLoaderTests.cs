using System.Diagnostics;
using System.Runtime.Loader;
using Ally.Abstractions;
using Ally.Host.Plugins;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ally.Host.Tests.Plugins;

public sealed class PluginLoaderTests : IDisposable
{
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Load_FolderLayout_FindsPluginAndIgnoresItsDependencies()
    {
        // Given a plugin folder holding the plugin and its dependency DLL
        _folder.AddFolder("TestPlugins.NeedsDependency");

        // When the folder is loaded
        var catalog = Load();

        // Then the plugin is found, its dependency resolves, and the dependency is not taken for a plugin
        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal("needsdep", plugin.Name);
        Assert.Equal("hello from a dependency", plugin.Plugin.DefaultModel);
        Assert.Empty(catalog.Warnings);
    }

    [Fact]
    public void Load_SingleFileLayout_FindsPlugin()
    {
        _folder.AddSingleFile("TestPlugins.Echo");

        var catalog = Load();

        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal("echo", plugin.Name);
        Assert.EndsWith("TestPlugins.Echo.dll", plugin.Path, StringComparison.Ordinal);
        Assert.Empty(catalog.Warnings);
    }

    [Fact]
    public async Task Load_PluginClient_IsTheHostsIChatClientType()
    {
        // Given a plugin loaded into its own context
        _folder.AddFolder("TestPlugins.Echo");
        var plugin = Assert.Single(Load().Plugins).Plugin;

        // When it creates a client
        var client = plugin.CreateClient(new ProviderSettings { Name = "echo", Model = "m" });

        // Then the contract types are the host's own, so the client is usable without reflection
        Assert.IsAssignableFrom<IChatClient>(client);
        var pluginContext = AssemblyLoadContext.GetLoadContext(plugin.GetType().Assembly);
        Assert.IsType<PluginLoadContext>(pluginContext);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(IChatClient).Assembly));
        Assert.Same(typeof(IProviderPlugin).Assembly, plugin.GetType().GetInterfaces().Single(i => i.Name == nameof(IProviderPlugin)).Assembly);
        var response = await client.GetResponseAsync("hi", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("echo[m]: hi", response.Text);
    }

    [Fact]
    public void Load_PluginShippingItsOwnContractCopy_StillSharesTheHostsTypes()
    {
        // Given a plugin folder that also carries copies of the contract assemblies
        var target = _folder.AddFolder("TestPlugins.Echo");
        File.Copy(typeof(IProviderPlugin).Assembly.Location, Path.Combine(target, "Ally.Abstractions.dll"));
        File.Copy(typeof(IChatClient).Assembly.Location, Path.Combine(target, "Microsoft.Extensions.AI.Abstractions.dll"));

        // When it is loaded
        var catalog = Load();

        // Then the host's copies win and the plugin works
        var plugin = Assert.Single(catalog.Plugins).Plugin;
        Assert.IsAssignableFrom<IChatClient>(plugin.CreateClient(new ProviderSettings { Name = "echo" }));
        Assert.Empty(catalog.Warnings);
    }

    [Fact]
    public void Load_TwoPluginsWithDifferentVersionsOfOnePackage_KeepsThemApart()
    {
        // Given two plugins carrying Newtonsoft.Json 13.0.1 and 13.0.3
        _folder.AddFolder("TestPlugins.JsonOld");
        _folder.AddFolder("TestPlugins.JsonNew");

        // When both are loaded
        var plugins = Load().Plugins.ToDictionary(p => p.Name);

        // Then each runs with its own copy
        Assert.StartsWith("13.0.1", plugins["jsonold"].Plugin.DefaultModel, StringComparison.Ordinal);
        Assert.StartsWith("13.0.3", plugins["jsonnew"].Plugin.DefaultModel, StringComparison.Ordinal);
        var oldJson = AssemblyLoadContext.GetLoadContext(plugins["jsonold"].Plugin.GetType().Assembly)!.Assemblies.Single(a => a.GetName().Name == "Newtonsoft.Json");
        var newJson = AssemblyLoadContext.GetLoadContext(plugins["jsonnew"].Plugin.GetType().Assembly)!.Assemblies.Single(a => a.GetName().Name == "Newtonsoft.Json");
        Assert.NotSame(oldJson, newJson);
        Assert.NotEqual(FileVersionInfo.GetVersionInfo(oldJson.Location).FileVersion, FileVersionInfo.GetVersionInfo(newJson.Location).FileVersion);
    }

    [Fact]
    public void Load_TwoPluginsWithOneName_FirstInPathOrderWinsWithWarning()
    {
        _folder.AddFolder("TestPlugins.DuplicateB");
        _folder.AddFolder("TestPlugins.DuplicateA");

        var catalog = Load();

        var winner = Assert.Single(catalog.Plugins);
        Assert.Equal("dupe-A", winner.Plugin.DefaultModel);
        var warning = Assert.Single(catalog.Warnings);
        Assert.Contains("TestPlugins.DuplicateB", warning.Message, StringComparison.Ordinal);
        Assert.Contains("wins", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileThatIsNotAnAssembly_WarnsAndContinues()
    {
        File.WriteAllText(Path.Combine(_folder.Plugins, "Broken.dll"), "this is not a PE file");
        _folder.AddFolder("TestPlugins.Echo");

        var catalog = Load();

        Assert.Single(catalog.Plugins);
        var warning = Assert.Single(catalog.Warnings);
        Assert.Contains("Broken.dll is not a .NET assembly", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PluginThatThrowsInConstructor_WarnsWithItsMessage()
    {
        _folder.AddFolder("TestPlugins.Throwing");

        var catalog = Load();

        Assert.Empty(catalog.Plugins);
        var warning = Assert.Single(catalog.Warnings);
        Assert.Contains("TestPlugins.Throwing.dll", warning.Message, StringComparison.Ordinal);
        Assert.Contains("always fails to start", warning.Message, StringComparison.Ordinal);
        Assert.Contains("remove it from the plugins folder", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PluginMissingADependency_NamesTheDependency()
    {
        // Given the plugin DLL without the DLL it depends on
        var target = _folder.AddFolder("TestPlugins.NeedsDependency");
        File.Delete(Path.Combine(target, "TestPlugins.Dependency.dll"));

        var catalog = Load();

        Assert.Empty(catalog.Plugins);
        var warning = Assert.Single(catalog.Warnings);
        Assert.Contains("TestPlugins.Dependency", warning.Message, StringComparison.Ordinal);
        Assert.Contains("missing", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PluginBuiltAgainstAnotherContractVersion_IsRefused()
    {
        _folder.AddFolder("TestPlugins.Incompatible");

        var catalog = Load();

        Assert.Empty(catalog.Plugins);
        var warning = Assert.Single(catalog.Warnings);
        Assert.Contains("Ally.Abstractions 2.0.0.0", warning.Message, StringComparison.Ordinal);
        Assert.Contains("rebuild", warning.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_AssemblyWithoutProvider_Warns()
    {
        _folder.AddFolder("TestPlugins.NoProvider");

        var catalog = Load();

        Assert.Empty(catalog.Plugins);
        Assert.Contains("contains no provider", Assert.Single(catalog.Warnings).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TopLevelDllNotReferencingTheContract_Warns()
    {
        File.Copy(Path.Combine(TestPluginFolder.BuildOutput("TestPlugins.JsonNew"), "Newtonsoft.Json.dll"), Path.Combine(_folder.Plugins, "Newtonsoft.Json.dll"));

        var catalog = Load();

        Assert.Empty(catalog.Plugins);
        Assert.Contains("does not reference Ally.Abstractions", Assert.Single(catalog.Warnings).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SourceFolderWithoutBuiltDll_SaysToBuild()
    {
        var source = Path.Combine(_folder.Plugins, "Ally.Plugins.Foo");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "Ally.Plugins.Foo.csproj"), "<Project />");

        var catalog = Load();

        Assert.Contains("dotnet build", Assert.Single(catalog.Warnings).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SingleFileLayoutWithItsDependencyBeside_FindsThePluginOnly()
    {
        // Given plugins/TestPlugins.NeedsDependency.dll with the DLL it needs beside it, at the top level
        var output = TestPluginFolder.BuildOutput("TestPlugins.NeedsDependency");
        File.Copy(Path.Combine(output, "TestPlugins.NeedsDependency.dll"), Path.Combine(_folder.Plugins, "TestPlugins.NeedsDependency.dll"));
        File.Copy(Path.Combine(output, "TestPlugins.Dependency.dll"), Path.Combine(_folder.Plugins, "TestPlugins.Dependency.dll"));

        // When the folder is loaded
        var catalog = Load();

        // Then the plugin works and its dependency is neither a plugin nor a warning
        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal("hello from a dependency", plugin.Plugin.DefaultModel);
        Assert.Empty(catalog.Warnings);
    }

    [Fact]
    public void Load_EveryFailure_WarningNamesTheFileAndSaysWhatToDo()
    {
        // Given one plugins folder holding every kind of broken plugin
        File.WriteAllText(Path.Combine(_folder.Plugins, "Broken.dll"), "this is not a PE file");
        _folder.AddFolder("TestPlugins.Throwing");
        _folder.AddFolder("TestPlugins.Incompatible");
        _folder.AddFolder("TestPlugins.NoProvider");
        File.Delete(Path.Combine(_folder.AddFolder("TestPlugins.NeedsDependency"), "TestPlugins.Dependency.dll"));
        File.Copy(Path.Combine(TestPluginFolder.BuildOutput("TestPlugins.JsonNew"), "Newtonsoft.Json.dll"), Path.Combine(_folder.Plugins, "Newtonsoft.Json.dll"));
        _folder.AddFolder("TestPlugins.DuplicateA");
        _folder.AddFolder("TestPlugins.DuplicateB");
        Directory.CreateDirectory(Path.Combine(_folder.Plugins, "Misnamed"));
        File.Copy(Path.Combine(TestPluginFolder.BuildOutput("TestPlugins.Echo"), "TestPlugins.Echo.dll"), Path.Combine(_folder.Plugins, "Misnamed", "Other.dll"));

        // When it is loaded
        var catalog = Load();

        // Then there is one warning per broken file, each naming it and saying what to do
        Assert.Equal(8, catalog.Warnings.Count);
        string[] remedies = ["remove", "rebuild", "build", "put ", "rename", "fix"];
        foreach (var warning in catalog.Warnings)
        {
            Assert.Contains(warning.Path, warning.Message, StringComparison.Ordinal);
            Assert.StartsWith("plugins", warning.Path, StringComparison.Ordinal);
            Assert.True(remedies.Any(r => warning.Message.Contains(r, StringComparison.OrdinalIgnoreCase)), $"no remedy in: {warning.Message}");
        }
    }

    [Theory]
    [InlineData("1.0.0.0", "1.0.0.0", true)]
    [InlineData("1.0.0.0", "1.2.0.0", true)]
    [InlineData("1.3.0.0", "1.2.0.0", false)]
    [InlineData("2.0.0.0", "1.0.0.0", false)]
    [InlineData("0.9.0.0", "1.0.0.0", false)]
    public void IsCompatible_SameMajorAndNotNewer_Only(string plugin, string host, bool compatible)
    {
        Assert.Equal(compatible, PluginLoader.IsCompatible(Version.Parse(plugin), Version.Parse(host)));
    }

    [Fact]
    public void Load_MissingFolder_IsEmptyWithoutWarnings()
    {
        var catalog = new PluginLoader(NullLogger<PluginLoader>.Instance).Load(Path.Combine(_folder.Root, "nowhere"));

        Assert.Empty(catalog.Plugins);
        Assert.Empty(catalog.Warnings);
    }

    private PluginCatalog Load() => new PluginLoader(NullLogger<PluginLoader>.Instance, _folder.Root).Load(_folder.Plugins);
}
