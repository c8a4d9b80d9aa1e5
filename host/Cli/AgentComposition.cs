using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Logging;
using Ally.Host.Providers.Http;
using Ally.Host.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Cli;

/// <summary>Builds the agent's setup for a command from the composed services and the command's options.</summary>
internal static class AgentComposition
{
    /// <summary>The agent's log category; its failures are shown by the chat itself, so the console leaves it out unless --verbose.</summary>
    public const string LogCategory = "Ally.Agent";

    public static AgentSetup Create(CommandContext context, AgentRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var directory = ResolveDirectory(request.Directory);
        var shell = new ShellRunner(directory);
        var workspace = new Workspace(directory);
        var services = context.Services;
        return new AgentSetup
        {
            Clients = services.GetRequiredService<IChatClientProvider>(),
            Registry = context.Registry,
            ToolSettings = ToolSettings.From(context.Config),
            Tools = AgentTools.Create(workspace, shell, SharedHttp.Web),
            Shell = shell,
            Sessions = services.GetRequiredService<SessionStore>(),
            Usage = services.GetService<Usage.UsageStore>(),
            Directory = workspace.Root,
            TimeProvider = services.GetRequiredService<TimeProvider>(),
            Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory),
            Redactor = context.Redactor,
            AllowAllTools = request.AllowAllTools,
            ToolsEnabled = !request.NoTools,
            Stream = request.Stream,
            LogDirectory = services.GetService<FileLoggerProvider>()?.Directory,
        };
    }

    private static string ResolveDirectory(string? directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            return Environment.CurrentDirectory;
        }

        var full = Path.GetFullPath(directory);
        return Directory.Exists(full) ? full : throw new ConfigException($"-d {directory}: no such folder.");
    }
}
