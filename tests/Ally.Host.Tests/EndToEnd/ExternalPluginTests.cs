using System.Diagnostics;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.EndToEnd;

/// <summary>A plugin written outside this repository against Ally.Abstractions alone, compiled, and dropped in.</summary>
public sealed class ExternalPluginTests : IDisposable
{
    private const string PluginSource =
        """
        using System.Runtime.CompilerServices;
        using Ally.Abstractions;
        using Microsoft.Extensions.AI;

        namespace Outside;

        public sealed class OutsidePlugin : IProviderPlugin
        {
            public string Name => "outside";
            public IReadOnlyList<string> RequiredEnvVars => ["OUTSIDE_TOKEN"];
            public string? DefaultModel => "outside-1";
            public ProviderValidation ValidateConfig(ProviderSettings settings) =>
                settings.ApiKey is { Length: > 0 } ? ProviderValidation.Success : ProviderValidation.Fail("OUTSIDE_TOKEN is empty.");
            public IChatClient CreateClient(ProviderSettings settings) => new OutsideClient(settings.Model!);
        }

        internal sealed class OutsideClient(string model) : IChatClient
        {
            public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
                Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, Answer(messages))) { ModelId = model, FinishReason = ChatFinishReason.Stop });

            public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
            {
                await Task.Yield();
                yield return new ChatResponseUpdate(ChatRole.Assistant, Answer(messages)) { ModelId = model, FinishReason = ChatFinishReason.Stop };
            }

            public object? GetService(Type serviceType, object? serviceKey = null) => null;
            public void Dispose() { }
            private static string Answer(IEnumerable<ChatMessage> messages) => "outside says: " + messages.Last().Text;
        }
        """;

    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ExternalPlugin_CompiledAgainstContractAlone_IsReadyAndAnswers()
    {
        // Given a plugin project outside the repository that references only the contract DLLs
        var project = Path.Combine(_folder.Root, "outside-src");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "OutsidePlugin.cs"), PluginSource, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(project, "Outside.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <AssemblyName>Outside</AssemblyName>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="Ally.Abstractions" HintPath="{typeof(IProviderPlugin).Assembly.Location}" Private="false" />
                <Reference Include="Microsoft.Extensions.AI.Abstractions" HintPath="{typeof(IChatClient).Assembly.Location}" Private="false" />
              </ItemGroup>
            </Project>
            """, TestContext.Current.CancellationToken);
        var output = Path.Combine(_folder.Plugins, "Outside");
        await BuildAsync(project, output);
        _folder.WriteConfig("""{ "provider": "outside" }""");
        _folder.WriteEnv("OUTSIDE_TOKEN=outside-token-value-42\n");

        // When ally lists providers and answers a prompt
        var providers = await AllyProcess.RunAsync(_folder.Root, ["providers", "--json"], cancellationToken: TestContext.Current.CancellationToken);
        var answer = await AllyProcess.RunAsync(_folder.Root, ["-p", "ping", "--no-tools"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the plugin is ready and its IChatClient answers
        Assert.True(providers.ExitCode == 0, providers.ToString());
        using var json = JsonDocument.Parse(providers.StandardOutput);
        var outside = json.RootElement.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "outside");
        Assert.Equal("ready", outside.GetProperty("status").GetString());
        Assert.Equal("plugin", outside.GetProperty("source").GetString());
        Assert.True(answer.ExitCode == 0, answer.ToString());
        Assert.Equal("outside says: ping", answer.StandardOutput.Trim());
    }

    private static async Task BuildAsync(string project, string output)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = project, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "build", "-o", output, "-p:UseAppHost=false", "--nologo" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, "building the outside plugin failed:\n" + stdout);
    }
}
