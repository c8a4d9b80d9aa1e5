using Ally.Abstractions;

namespace Ally.Plugins.Cohere.Tests;

public sealed class CoherePluginTests
{
    [Fact]
    public void Members_Describe_Cohere()
    {
        // Given the plugin seen through the contract
        IProviderPlugin plugin = new CoherePlugin();

        // Then it names itself, its key and its models
        Assert.Equal("cohere", plugin.Name);
        Assert.Equal("Cohere", plugin.DisplayName);
        Assert.Equal(["COHERE_API_KEY"], plugin.RequiredEnvVars);
        Assert.Equal("command-a-03-2025", plugin.DefaultModel);
        Assert.Contains("command-a-03-2025", plugin.KnownModels);
        Assert.Contains("command-r7b-12-2024", plugin.KnownModels);
    }

    [Theory]
    [InlineData("command-a-03-2025", "2.50", "10.00")]
    [InlineData("command-r-plus-08-2024", "2.50", "10.00")]
    [InlineData("command-r-08-2024", "0.15", "0.60")]
    [InlineData("command-r7b-12-2024", "0.0375", "0.15")]
    public void Prices_MatchCoherePublicPricing(string model, string input, string output)
    {
        // Given the plugin's price list
        IProviderPlugin plugin = new CoherePlugin();

        // When a model is looked up
        var price = Assert.Single(plugin.Prices, p => p.Model == model);

        // Then its prices are Cohere's, per million tokens
        Assert.Equal(decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture), price.InputPerMillion);
        Assert.Equal(decimal.Parse(output, System.Globalization.CultureInfo.InvariantCulture), price.OutputPerMillion);
        Assert.Contains(model, plugin.KnownModels);
    }

    [Fact]
    public void ValidateConfig_KeyAndNoBaseUrl_Succeeds()
    {
        // Given settings with only a key
        var settings = new ProviderSettings { Name = "cohere", ApiKey = "co-key" };

        // When they are validated
        var result = new CoherePlugin().ValidateConfig(settings);

        // Then they are enough
        Assert.True(result.IsValid);
    }

    [Fact]
    public void ValidateConfig_KeyOnlyInCoApiKey_Succeeds()
    {
        // Given settings whose key is under Cohere SDKs' own variable name
        var settings = new ProviderSettings
        {
            Name = "cohere",
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["CO_API_KEY"] = "co-key" },
        };

        // When they are validated
        var result = new CoherePlugin().ValidateConfig(settings);

        // Then that key is accepted
        Assert.True(result.IsValid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void ValidateConfig_NoKey_FailsNamingTheVariable(string? key)
    {
        // Given settings without a key
        var settings = new ProviderSettings { Name = "cohere", ApiKey = key };

        // When they are validated
        var result = new CoherePlugin().ValidateConfig(settings);

        // Then the error names the variable to set
        Assert.False(result.IsValid);
        Assert.Contains("COHERE_API_KEY", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api.cohere.com/v2", UriKind.Relative)]
    [InlineData("ftp://api.cohere.com", UriKind.Absolute)]
    [InlineData("file:///tmp/cohere", UriKind.Absolute)]
    public void ValidateConfig_BadBaseUrl_FailsNamingTheSetting(string url, UriKind kind)
    {
        // Given a base URL that is relative or not http(s)
        var settings = new ProviderSettings { Name = "cohere", ApiKey = "co-key", BaseUrl = new Uri(url, kind) };

        // When they are validated
        var result = new CoherePlugin().ValidateConfig(settings);

        // Then the error names base_url, and never the key
        Assert.False(result.IsValid);
        Assert.Contains("base_url", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("co-key", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:8080")]
    [InlineData("https://proxy.example.com/cohere/")]
    public void ValidateConfig_HttpOrHttpsBaseUrl_Succeeds(string url)
    {
        // Given an absolute http(s) base URL
        var settings = new ProviderSettings { Name = "cohere", ApiKey = "co-key", BaseUrl = new Uri(url) };

        // When they are validated
        var result = new CoherePlugin().ValidateConfig(settings);

        // Then it is accepted
        Assert.True(result.IsValid);
    }

    [Fact]
    public void NewtonsoftJson_PluginReference_IsVersion13()
    {
        // Given the Newtonsoft.Json the plugin was built against
        var referenced = typeof(CoherePlugin).Assembly.GetReferencedAssemblies().Single(a => a.Name == "Newtonsoft.Json");

        // When the loaded assembly is inspected
        var loaded = typeof(Newtonsoft.Json.JsonConvert).Assembly.GetName();

        // Then both are 13.0.0.0, the assembly version of every 13.x package
        Assert.Equal(new Version(13, 0, 0, 0), referenced.Version);
        Assert.Equal(new Version(13, 0, 0, 0), loaded.Version);
    }

    [Fact]
    public void References_OnlyContractAndPrivateDependency_NoHostCode()
    {
        // Given the plugin assembly
        var references = typeof(CoherePlugin).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        // Then it knows the contract and Newtonsoft.Json, but never the host
        Assert.Contains("Ally.Abstractions", references);
        Assert.Contains("Microsoft.Extensions.AI.Abstractions", references);
        Assert.Contains("Newtonsoft.Json", references);
        Assert.DoesNotContain("Ally.Host", references);
    }

    [Fact]
    public void DeployedFolder_HoldsPrivateDependencyButNotSharedAssemblies()
    {
        // Given the folder the plugin's build deploys into (absent when the build was told not to deploy)
        var folder = FindPluginFolder();
        if (folder is null || !File.Exists(Path.Combine(folder, "Ally.Plugins.Cohere.dll")))
        {
            return;
        }

        // Then Newtonsoft.Json travels with the plugin, and the host's shared assemblies do not
        Assert.True(File.Exists(Path.Combine(folder, "Newtonsoft.Json.dll")));
        Assert.True(File.Exists(Path.Combine(folder, "Ally.Plugins.Cohere.deps.json")));
        Assert.False(File.Exists(Path.Combine(folder, "Ally.Abstractions.dll")));
        Assert.False(File.Exists(Path.Combine(folder, "Microsoft.Extensions.AI.Abstractions.dll")));
    }

    internal static string? FindPluginFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Ally.sln")))
            {
                return Path.Combine(directory.FullName, "plugins", "Ally.Plugins.Cohere");
            }
        }

        return null;
    }
}
