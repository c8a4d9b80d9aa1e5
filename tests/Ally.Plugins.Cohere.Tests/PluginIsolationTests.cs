using System.Reflection;
using System.Runtime.Loader;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere.Tests;

/// <summary>Loads the deployed plugin the way a host does, to show that Newtonsoft.Json comes from the plugin's folder.</summary>
public sealed class PluginIsolationTests
{
    [Fact]
    public async Task DeployedPlugin_LoadedInItsOwnContext_UsesItsOwnNewtonsoftAndSharesTheContract()
    {
        // Given the deployed plugin folder (absent when the build was told not to deploy)
        var ct = TestContext.Current.CancellationToken;
        var folder = CoherePluginTests.FindPluginFolder();
        var pluginPath = folder is null ? null : Path.Combine(folder, "Ally.Plugins.Cohere.dll");
        if (pluginPath is null || !File.Exists(pluginPath))
        {
            return;
        }

        // When it is loaded into a context that shares only the contract assemblies
        var context = new PluginLoadContext(pluginPath);
        try
        {
            var assembly = context.LoadFromAssemblyPath(pluginPath);
            var pluginType = assembly.GetExportedTypes().Single(t => typeof(IProviderPlugin).IsAssignableFrom(t));
            var plugin = (IProviderPlugin)Activator.CreateInstance(pluginType)!;

            await using var server = await LoopbackServer.StartAsync(
                c => CohereWire.WriteJsonAsync(c, """{"id":"iso","message":{"role":"assistant","content":[{"type":"text","text":"isolated"}]},"finish_reason":"COMPLETE"}"""),
                ct);
            using var client = plugin.CreateClient(CohereWire.Settings(server.BaseAddress));
            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

            // Then the contract types are the host's, and Newtonsoft.Json is the plugin's own copy
            Assert.Equal("isolated", response.Text);
            Assert.Same(typeof(IProviderPlugin).Assembly, pluginType.GetInterfaces().Single(i => i.Name == nameof(IProviderPlugin)).Assembly);
            var newtonsoft = context.Assemblies.Single(a => a.GetName().Name == "Newtonsoft.Json");
            Assert.Equal(Path.GetFullPath(folder!), Path.GetDirectoryName(newtonsoft.Location));
            Assert.Equal(new Version(13, 0, 0, 0), newtonsoft.GetName().Version);
            Assert.NotSame(typeof(Newtonsoft.Json.JsonConvert).Assembly, newtonsoft);
            Assert.DoesNotContain(context.Assemblies, a => a.GetName().Name is "Ally.Abstractions" or "Microsoft.Extensions.AI.Abstractions");
        }
        finally
        {
            context.Unload();
        }
    }

    private sealed class PluginLoadContext(string pluginPath) : AssemblyLoadContext(isCollectible: true)
    {
        private static readonly HashSet<string> Shared = new(StringComparer.Ordinal) { "Ally.Abstractions", "Microsoft.Extensions.AI.Abstractions" };
        private readonly AssemblyDependencyResolver _resolver = new(pluginPath);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name is { } name && Shared.Contains(name))
            {
                return null;
            }

            return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
        }
    }
}
