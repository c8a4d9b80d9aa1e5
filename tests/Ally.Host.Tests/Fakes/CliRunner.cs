using Ally.Host.Cli;
using Ally.Host.Terminal;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Tests.Fakes;

/// <summary>
/// Runs the real command line with the real composition root, in memory: a config folder with config.json and a
/// .env whose ALLY_HOME points at a private data folder, captured stdout and stderr, and optional service overrides.
/// </summary>
internal sealed class CliRunner : IDisposable
{
    private readonly TempFolder _root = new();

    public CliRunner(string config)
    {
        ConfigDirectory = _root.Combine("config");
        Work = _root.Combine("work");
        Data = _root.Combine("data");
        Directory.CreateDirectory(Work);
        _root.Write("config/config.json", config);
        _root.Write("config/.env", $"ALLY_HOME={Data}\n");
    }

    public string ConfigDirectory { get; }

    public string ConfigPath => Path.Combine(ConfigDirectory, "config.json");

    public string Work { get; }

    public string Data { get; }

    public Action<IServiceCollection>? Overrides { get; set; }

    public async Task<(int Code, string Out, string Err)> RunAsync(string[] args, string? stdin = "", bool terminal = false)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var streams = new StandardStreams(output, error, new StringReader(stdin ?? string.Empty), inputRedirected: !terminal, outputRedirected: !terminal);
        var cli = new AllyCommandLine(streams, global => Program.Compose(global, streams, Overrides));
        var code = await cli.InvokeAsync(["--config", ConfigPath, .. args], TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    public void Dispose() => _root.Dispose();
}
