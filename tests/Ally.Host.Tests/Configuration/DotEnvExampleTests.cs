using System.Text.RegularExpressions;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Plugins;
using Ally.Host.Providers;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ally.Host.Tests.Configuration;

public sealed partial class DotEnvExampleTests
{
    [Fact]
    public void DotEnvExample_ListsEveryVariableTheBuiltInsAndSamplePluginsRead()
    {
        // Given .env.example, and the sample plugins as the set-up command builds them
        var example = File.ReadAllText(Path.Combine(AllyProcess.RepositoryRoot, ".env.example"));
        var listed = VariableName().Matches(example).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        var samples = new PluginLoader(NullLogger<PluginLoader>.Instance).Load(Path.Combine(AllyProcess.RepositoryRoot, "plugins"));
        Assert.Contains(samples.Plugins, p => p.Name == "minimax");
        Assert.Contains(samples.Plugins, p => p.Name == "cohere");

        // When every variable Ally reads is gathered
        var read = BuiltInProviders.All
            .SelectMany(d => d.KeyVariables.Append(d.BaseUrlVariable).Append(d.DefaultModelVariable).Concat(d.SettingVariables.Values.SelectMany(v => v)))
            .OfType<string>()
            .Concat(samples.Plugins.SelectMany(p => p.Plugin.RequiredEnvVars))
            .Concat([ConfigLoader.ConfigVariable, AllyPaths.HomeVariable, GatewayOptions.KeysVariable, GatewayOptions.AdminKeyVariable])
            .Distinct(StringComparer.Ordinal);

        // Then each one is in the file, so a user can see where to put it
        var missing = read.Where(v => !listed.Contains(v)).ToList();
        Assert.True(missing.Count == 0, $".env.example does not list: {string.Join(", ", missing)}");
    }

    [GeneratedRegex("[A-Z][A-Z0-9_]*_[A-Z0-9_]+")]
    private static partial Regex VariableName();
}
