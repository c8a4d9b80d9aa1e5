using System.CommandLine;
using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Routing;
using Ally.Host.Terminal;
using Microsoft.Extensions.Hosting;

namespace Ally.Host.Cli;

/// <summary>
/// The command line: global options, the one-shot prompt, and subcommands. Each action composes the host through
/// the delegate it is given, so that parsing and help never pay for loading plugins.
/// </summary>
internal sealed class AllyCommandLine
{
    private readonly StandardStreams _streams;
    private readonly Func<GlobalArguments, IHost> _compose;

    public AllyCommandLine(StandardStreams streams, Func<GlobalArguments, IHost> compose)
    {
        _streams = streams;
        _compose = compose;
        Root = Build();
    }

    public RootCommand Root { get; }

    public Option<string?> ConfigOption { get; } = new("--config") { Description = "Path of config.json (default: $ALLY_CONFIG, else ./config.json).", Recursive = true };

    public Option<string?> PluginsOption { get; } = new("--plugins") { Description = "Plugins folder (default: plugins_dir from config.json, else plugins/ beside it).", Recursive = true };

    public Option<bool> VerboseOption { get; } = new("--verbose", "-v") { Description = "Show debug logs and full error details.", Recursive = true };

    public Option<bool> JsonOption { get; } = new("--json") { Description = "Print one JSON object on stdout instead of text.", Recursive = true };

    public Option<string?> PromptOption { get; } = new("--prompt", "-p") { Description = "Run one turn with this prompt and exit; text piped on stdin is added to it." };

    public Option<string?> ProviderOption { get; } = new("--provider") { Description = "Provider to use (see 'ally providers')." };

    public Option<string?> ModelOption { get; } = new("--model", "-m") { Description = "Model to use (see 'ally models')." };

    public Option<string> RoleOption { get; } = new("--role") { Description = "Role whose provider, model, temperature and system prompt to use.", DefaultValueFactory = _ => AllyRoles.General };

    public Option<bool> NoStreamOption { get; } = new("--no-stream") { Description = "Make a non-streaming call." };

    public Option<bool> NoToolsOption { get; } = new("--no-tools") { Description = "Call without tools; the model's tool calls are reported as they came." };

    public Option<string?> DirectoryOption { get; } = new("--directory", "-d") { Description = "Working folder the tools are confined to (default: the current folder)." };

    public Option<string?> ResumeOption { get; } = new("--resume", "-i") { Description = "Resume the chat session with this id (see 'ally sessions')." };

    public Option<bool> ContinueOption { get; } = new("--continue") { Description = "Resume the last chat session of the working folder." };

    public Option<bool> AllowAllToolsOption { get; } = new("--allow-all-tools") { Description = "Run every tool without asking first." };

    public Option<bool> CreateProjectOption { get; } = new("--create-project") { Description = "Start the project workflow: the brainstormer writes a specification, then code_gen builds it." };

    /// <summary>Parses and runs; returns the process exit code.</summary>
    public async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var parseResult = Root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                await _streams.Error.WriteLineAsync($"error: {error.Message}");
            }

            await _streams.Error.WriteLineAsync("Run 'ally --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = _streams.Output,
            Error = _streams.Error,
            EnableDefaultExceptionHandler = false,

            // The chat handles Ctrl+C itself (it stops the answer in flight and keeps the chat).
            ProcessTerminationTimeout = null,
        };
        return await parseResult.InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>Runs a command's body with the composed host, mapping failures to messages and exit codes.</summary>
    public async Task<int> RunAsync(ParseResult parseResult, Func<CommandContext, Task<int>> body)
    {
        var global = new GlobalArguments(parseResult.GetValue(ConfigOption), parseResult.GetValue(PluginsOption), parseResult.GetValue(VerboseOption));
        var json = parseResult.GetValue(JsonOption);
        var redactor = SecretRedactor.None;
        try
        {
            using var host = _compose(global);
            var context = new CommandContext(host.Services, _streams, global, json);
            redactor = context.Redactor;
            context.PrintWarnings();
            return await body(context);
        }
        catch (ConfigException ex)
        {
            await WriteErrorAsync(json, "config", redactor.Redact(ex.Message), null, global.Verbose ? ex : null);
            return ExitCodes.Usage;
        }
        catch (ProviderException ex)
        {
            await WriteErrorAsync(json, ErrorKindNames.Of(ex.Kind), redactor.Redact(ex.Message), ex.Provider, global.Verbose ? ex : null, ex.StatusCode);
            return ExitCodes.Failure;
        }
        catch (Usage.BudgetExceededException ex)
        {
            await WriteErrorAsync(json, ErrorKindNames.BudgetExceeded, redactor.Redact(ex.Message), null, global.Verbose ? ex : null);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            await _streams.Error.WriteLineAsync("cancelled.");
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // the last line of defence: a message, never a stack trace unless --verbose
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await WriteErrorAsync(json, "internal", redactor.Redact($"{ex.GetType().Name}: {ex.Message}") + (global.Verbose ? string.Empty : " (run with --verbose for details)"), null, global.Verbose ? ex : null);
            return ExitCodes.Failure;
        }
    }

    private async Task WriteErrorAsync(bool json, string kind, string message, string? provider, Exception? details, int? status = null)
    {
        if (json)
        {
            await _streams.Output.WriteLineAsync(JsonOutput.Error(kind, message, provider, status, partialText: null));
        }

        await _streams.Error.WriteLineAsync($"error: {message}");
        if (details is not null)
        {
            await _streams.Error.WriteLineAsync(details.ToString());
        }
    }

    private RootCommand Build()
    {
        var root = new RootCommand("Ally: a terminal AI agent whose LLM providers are plugins.");
        root.Options.Add(ConfigOption);
        root.Options.Add(PluginsOption);
        root.Options.Add(VerboseOption);
        root.Options.Add(JsonOption);
        root.Options.Add(PromptOption);
        root.Options.Add(ProviderOption);
        root.Options.Add(ModelOption);
        root.Options.Add(RoleOption);
        root.Options.Add(NoStreamOption);
        root.Options.Add(NoToolsOption);
        root.Options.Add(DirectoryOption);
        root.Options.Add(ResumeOption);
        root.Options.Add(ContinueOption);
        root.Options.Add(AllowAllToolsOption);
        root.Options.Add(CreateProjectOption);
        RoleOption.AcceptOnlyFromAmong([.. AllyRoles.All]);

        root.SetAction(async (parseResult, cancellationToken) =>
        {
            var agent = new AgentRequest
            {
                Directory = parseResult.GetValue(DirectoryOption),
                Role = parseResult.GetValue(RoleOption) ?? AllyRoles.General,
                Provider = parseResult.GetValue(ProviderOption),
                Model = parseResult.GetValue(ModelOption),
                AllowAllTools = parseResult.GetValue(AllowAllToolsOption),
                NoTools = parseResult.GetValue(NoToolsOption),
                Stream = !parseResult.GetValue(NoStreamOption),
                ResumeId = parseResult.GetValue(ResumeOption),
                Continue = parseResult.GetValue(ContinueOption),
                CreateProject = parseResult.GetValue(CreateProjectOption),
            };

            if (parseResult.GetValue(PromptOption) is { } prompt)
            {
                var request = new PromptRequest(
                    prompt,
                    agent.Provider,
                    agent.Model,
                    agent.Role,
                    Stream: agent.Stream,
                    Json: parseResult.GetValue(JsonOption),
                    NoTools: agent.NoTools)
                {
                    Directory = agent.Directory,
                    AllowAllTools = agent.AllowAllTools,
                };
                return await RunAsync(parseResult, context => PromptCommand.RunAsync(context, request, cancellationToken));
            }

            // The first-run wizard saves a provider and asks for a restart: compose again with the new files.
            var code = ChatCommand.Restart;
            for (var run = 0; run < 3 && code == ChatCommand.Restart; run++)
            {
                code = await RunAsync(parseResult, context => ChatCommand.RunAsync(context, agent, cancellationToken));
            }

            return code == ChatCommand.Restart ? ExitCodes.Failure : code;
        });

        root.Subcommands.Add(ProvidersCommand.Create(this));
        root.Subcommands.Add(ModelsCommand.Create(this));
        root.Subcommands.Add(HealthCommand.Create(this));
        root.Subcommands.Add(UsageCommand.Create(this));
        root.Subcommands.Add(ServeCommand.Create(this));
        root.Subcommands.Add(SessionsCommand.Create(this));
        return root;
    }
}
