using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Plugins;
using Ally.Host.Providers;
using Ally.Host.Sessions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Fakes;

/// <summary>
/// A working folder, a data folder, a config.json with a ready provider named <c>fake</c> (and <c>other</c>), and
/// an <see cref="AgentSetup"/> whose clients are one <see cref="TestChatClient"/>.
/// </summary>
internal sealed class AgentFixture : IDisposable
{
    public const string DefaultConfig = """
        {
          "provider": "fake",
          "model": "fake-model",
          "temperatures": { "general": 0.5, "code_gen": 0.1 },
          "providers": {
            "fake": { "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "default_model": "fake-model" },
            "other": { "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "default_model": "other-model" }
          }
        }
        """;

    private readonly TempFolder _root = new();

    public AgentFixture(string? config = null, Func<AgentSetup, AgentSetup>? configure = null)
    {
        Work = _root.Combine("work");
        Data = _root.Combine("data");
        ConfigDirectory = _root.Combine("config");
        Directory.CreateDirectory(Work);
        Directory.CreateDirectory(ConfigDirectory);
        ConfigPath = Path.Combine(ConfigDirectory, "config.json");
        File.WriteAllText(ConfigPath, config ?? DefaultConfig);
        var loaded = ConfigLoader.Load(ConfigPath, currentDirectory: ConfigDirectory);
        var environment = new AllyEnvironment(new Dictionary<string, string>(), _ => null, Path.Combine(ConfigDirectory, ".env"));
        Registry = new ProviderRegistry(loaded, environment, PluginCatalog.Empty(loaded.PluginsDirectory));
        Sessions = new SessionStore(Path.Combine(Data, SessionStore.FileName), TimeProvider.System);
        Clients = new TestChatClientProvider(Client);
        var shell = new ShellRunner(Work);
        var setup = new AgentSetup
        {
            Clients = Clients,
            Registry = Registry,
            ToolSettings = ToolSettings.From(loaded),
            Tools = AgentTools.Create(new Workspace(Work), shell, new HttpClient()),
            Shell = shell,
            Sessions = Sessions,
            Directory = Work,
        };
        Setup = configure?.Invoke(setup) ?? setup;
    }

    public string Work { get; }

    public string Data { get; }

    public string ConfigDirectory { get; }

    public string ConfigPath { get; }

    public TestChatClient Client { get; } = new();

    public TestChatClientProvider Clients { get; }

    public ProviderRegistry Registry { get; }

    public SessionStore Sessions { get; }

    public AgentSetup Setup { get; }

    public TestTerminal Terminal { get; } = new();

    public TestInterruptSignal Interrupts { get; } = new();

    public InteractiveChat CreateChat(string role = AllyRoles.General) => new(Terminal, Setup, Interrupts, role);

    /// <summary>Gets the text of the last user message of the last call.</summary>
    public string LastUserText() => Client.Calls[^1].Last(m => m.Role == ChatRole.User).Text;

    public void Dispose() => _root.Dispose();
}
