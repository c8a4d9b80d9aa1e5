using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Terminal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Ally.Host.Cli;

/// <summary><c>ally -p "prompt"</c>: one turn with the selected provider, streamed to stdout or printed as JSON.</summary>
internal static class PromptCommand
{
    public static async Task<int> RunAsync(CommandContext context, PromptRequest request, CancellationToken cancellationToken)
    {
        var selection = context.Config.ForRole(request.Role);
        var providerName = request.Provider ?? selection.Provider
            ?? throw new ConfigException($"no provider selected: set \"provider\" in {context.Config.DisplayPath} or pass --provider (see 'ally providers').");

        // A role's model belongs to the role's provider: a provider chosen on the command line uses its own default.
        var model = request.Model ?? (request.Provider is null ? selection.Model : null);
        var entry = context.Registry.Get(providerName);
        var resolvedModel = model ?? context.Registry.ResolveSettings(entry).Model;
        var clients = context.Services.GetRequiredService<IChatClientProvider>();
        using var client = clients.Create(new ChatTarget(request.Role, entry.Name, model, selection.Temperature, SessionId: null));

        var prompt = request.Prompt!;
        if (context.Streams.IsInputRedirected)
        {
            var piped = await context.Streams.Input.ReadToEndAsync(cancellationToken);
            if (!string.IsNullOrWhiteSpace(piped))
            {
                prompt = $"{prompt}\n\n{piped.TrimEnd()}";
            }
        }

        if (!request.NoTools)
        {
            return await RunWithToolsAsync(context, request, client, entry.Name, resolvedModel, selection, prompt, cancellationToken);
        }

        List<ChatMessage> messages =
        [
            new(ChatRole.System, selection.SystemPrompt ?? RolePrompts.For(request.Role)),
            new(ChatRole.User, prompt),
        ];
        var options = new ChatOptions { ModelId = resolvedModel, Temperature = (float?)selection.Temperature };

        var updates = new List<ChatResponseUpdate>();
        var text = new System.Text.StringBuilder();
        ChatResponse response;
        try
        {
            if (request.Stream)
            {
                await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken))
                {
                    updates.Add(update);
                    if (update.Text is { Length: > 0 } piece)
                    {
                        text.Append(piece);
                        if (!request.Json)
                        {
                            await context.Streams.Output.WriteAsync(piece);
                        }
                    }
                }

                response = updates.ToChatResponse();
            }
            else
            {
                response = await client.GetResponseAsync(messages, options, cancellationToken);
                if (!request.Json)
                {
                    await context.Streams.Output.WriteAsync(response.Text);
                }
            }
        }
        catch (ProviderException ex)
        {
            return await FailAsync(context, request, ex, entry.Name, text.ToString());
        }

        if (request.Json)
        {
            await context.Streams.Output.WriteLineAsync(JsonOutput.Result(response, entry.Name, resolvedModel, costUsd: CostReader.Read(response.AdditionalProperties), attempts: []));
        }
        else
        {
            await context.Streams.Output.WriteLineAsync();
        }

        return ExitCodes.Success;
    }

    /// <summary>Runs the turn through the tool loop, under the same permission rules as the chat.</summary>
    private static async Task<int> RunWithToolsAsync(
        CommandContext context,
        PromptRequest request,
        IChatClient client,
        string provider,
        string? model,
        RoleSelection selection,
        string prompt,
        CancellationToken cancellationToken)
    {
        var setup = AgentComposition.Create(context, new AgentRequest
        {
            Directory = request.Directory,
            Role = request.Role,
            AllowAllTools = request.AllowAllTools,
            Stream = request.Stream,
        });

        // A terminal on stdin can answer permission prompts (shown on stderr, as stdout carries the answer);
        // piped input cannot, and then a tool that would ask is denied and the model told.
        IToolPrompter? prompter = null;
        if (!context.Streams.IsInputRedirected && context.Services.GetKeyedService<IAnsiConsole>(TerminalConsoles.PromptKey) is { } promptConsole)
        {
            prompter = new ConsoleToolPrompter(promptConsole, new LineEditor(promptConsole));
        }

        var permissions = new ToolPermissions(setup.ToolSettings.Allow, setup.AllowAllTools, prompter);
        var loop = new ToolLoop(permissions, setup.ToolSettings.MaxIterations, setup.Logger);
        var observer = new PromptTurnObserver(context.Streams, request.Json);
        var systemPrompt = $"{selection.SystemPrompt ?? RolePrompts.For(request.Role)}\n\nThe working folder is {setup.Directory}; tool paths are relative to it.";
        var options = new ChatOptions { ModelId = model, Temperature = (float?)selection.Temperature, Tools = [.. setup.Tools] };
        List<ChatMessage> history = [new(ChatRole.User, prompt)];
        TurnResult result;
        try
        {
            result = await loop.RunAsync(client, systemPrompt, history, options, request.Stream, observer, cancellationToken);
        }
        catch (ProviderException ex)
        {
            return await FailAsync(context, request, ex, provider, observer.Text);
        }

        if (request.Json)
        {
            await context.Streams.Output.WriteLineAsync(JsonOutput.Result(result.ToChatResponse(), provider, model, result.CostUsd, attempts: [], toolsRan: true));
        }
        else
        {
            await context.Streams.Output.WriteLineAsync();
        }

        return ExitCodes.Success;
    }

    private static async Task<int> FailAsync(CommandContext context, PromptRequest request, ProviderException ex, string provider, string textSoFar)
    {
        if (request.Json)
        {
            var partial = ex.PartialText ?? (textSoFar.Length > 0 ? textSoFar : null);
            await context.Streams.Output.WriteLineAsync(JsonOutput.Error(ErrorKinds.Name(ex.Kind), context.Redactor.Redact(ex.Message), ex.Provider ?? provider, ex.StatusCode, partial));
            await context.Streams.Error.WriteLineAsync($"error: {context.Redactor.Redact(ex.Message)}");
            return ExitCodes.Failure;
        }

        if (ex.Kind == ProviderErrorKind.TruncatedStream || textSoFar.Length > 0)
        {
            await context.Streams.Output.WriteLineAsync();
            await context.Streams.Error.WriteLineAsync($"error: the answer is incomplete: {context.Redactor.Redact(ex.Message)}");
            return ExitCodes.Failure;
        }

        throw ex.Provider is null ? new ProviderException(ex.Kind, ex.Message, provider, ex.StatusCode, ex.RetryAfter, ex) { ErrorCode = ex.ErrorCode } : ex;
    }
}
