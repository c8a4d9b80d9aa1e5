using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.EndToEnd;

public sealed class ConfigErrorTests : IDisposable
{
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_MalformedConfig_NamesFileLineAndColumn()
    {
        _folder.WriteConfig("{\n  \"provider\": \"openai\",\n  \"model\": gpt-4o\n}");

        var result = await Run("providers");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("config.json: line 3, column", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_UnknownProvider_ListsInstalledProviders()
    {
        _folder.WriteConfig("""{ "provider": "nosuch" }""");

        var result = await Run("-p", "hi");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'nosuch' is not installed", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("openai", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("anthropic", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_MissingKey_NamesVariableAndDotEnv()
    {
        _folder.WriteConfig("""{ "provider": "anthropic" }""");

        var result = await Run("-p", "hi");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ANTHROPIC_API_KEY", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(".env", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ValueOutOfRange_NamesKeyAndRange()
    {
        _folder.WriteConfig("""{ "provider": "openai", "temperatures": { "general": 7 } }""");

        var result = await Run("providers");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'temperatures.general' is 7; allowed: 0 to 2", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WrongType_NamesKeyAndExpectedType()
    {
        _folder.WriteConfig("""{ "providers": { "groq": { "base_url": "not a url" } } }""");

        var result = await Run("providers");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'providers.groq.base_url'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("http", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingExplicitConfig_ExitsTwo()
    {
        var result = await Run("providers", "--config", "missing.json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("missing.json: no such file", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ConfigFromEnvironmentVariable_IsUsed()
    {
        var elsewhere = Path.Combine(_folder.Root, "conf");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, "config.json"), """{ "temperature": 9 }""");

        var result = await AllyProcess.RunAsync(_folder.Root, ["providers"], new Dictionary<string, string?> { ["ALLY_CONFIG"] = Path.Combine(elsewhere, "config.json") }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'temperature' is 9", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownOption_IsAUsageError()
    {
        var result = await Run("--no-such-option");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--no-such-option", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_RealEnvironmentVariable_WinsOverDotEnv()
    {
        _folder.WriteConfig("""{ "provider": "groq" }""");
        _folder.WriteEnv("GROQ_API_KEY=\n");

        var withoutKey = await Run("providers", "--json");
        var withKey = await AllyProcess.RunAsync(_folder.Root, ["providers", "--json"], new Dictionary<string, string?> { ["GROQ_API_KEY"] = "gsk_from_environment_123456" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["GROQ_API_KEY"], MissingFor(withoutKey, "groq"));
        Assert.Empty(MissingFor(withKey, "groq"));
        Assert.DoesNotContain("gsk_from_environment_123456", withKey.StandardOutput + withKey.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsVersion()
    {
        var result = await Run("--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StandardOutput.Trim());
    }

    private static List<string?> MissingFor(AllyResult result, string provider)
    {
        using var json = System.Text.Json.JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.GetProperty("providers").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == provider)
            .GetProperty("missing_env_vars").EnumerateArray().Select(e => e.GetString()).ToList();
    }

    private Task<AllyResult> Run(params string[] args) =>
        AllyProcess.RunAsync(_folder.Root, args, cancellationToken: TestContext.Current.CancellationToken);
}
