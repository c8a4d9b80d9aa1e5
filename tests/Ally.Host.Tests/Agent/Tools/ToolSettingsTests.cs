using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Agent.Tools;

public sealed class ToolSettingsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void From_NoToolsSection_AllowsReadOnlyToolsAndTwentyIterations()
    {
        // When
        var settings = ToolSettings.From(Load("{}"));

        // Then
        Assert.Equal(AgentTools.ReadOnly, settings.Allow);
        Assert.Equal(20, settings.MaxIterations);
    }

    [Fact]
    public void From_ToolsSection_ReadsAllowAndMaxIterations()
    {
        // When
        var settings = ToolSettings.From(Load("""{ "tools": { "allow": ["read_file", "run_command"], "max_iterations": 5 } }"""));

        // Then
        Assert.Equal(["read_file", "run_command"], settings.Allow);
        Assert.Equal(5, settings.MaxIterations);
    }

    [Fact]
    public void From_WrongValue_NamesTheKey()
    {
        // When
        var error = Assert.Throws<ConfigException>(() => ToolSettings.From(Load("""{ "tools": { "max_iterations": 0 } }""")));

        // Then
        Assert.Contains("'tools.max_iterations' is 0; allowed: 1 to 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_AllowNamesAToolThatDoesNotExist_NamesItAndListsTheTools()
    {
        // When a typo would otherwise leave a tool asking every time without a word
        var error = Assert.Throws<ConfigException>(() => ToolSettings.From(Load("""{ "tools": { "allow": ["read_file", "readfile"] } }""")));

        // Then
        Assert.Contains("'tools.allow' names 'readfile', which is not a tool", error.Message, StringComparison.Ordinal);
        Assert.Contains("write_file", error.Message, StringComparison.Ordinal);
    }

    private AllyConfig Load(string json) => ConfigLoader.Load(_folder.Write("config.json", json), currentDirectory: _folder.Path);
}
