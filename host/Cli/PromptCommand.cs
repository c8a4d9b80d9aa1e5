using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Routing;
using Ally.Host.Terminal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Ally.Host.Cli;

/// <summary>
/// <c>ally -p "prompt"</c>: one turn through the router, with tools under the chat's permission rules (or without,
/// with <c>--no-tools</c>), streamed to stdout or printed as one JSON object.
/// </summary>
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
        var status = context.Registry.GetStatus(entry, model);
        if (!status.IsReady)
        {
            throw new ConfigException($"provider '{entry.Name}' is not ready: {status.Message}.");
        }

        var resolvedModel = model ?? context.Registry.ResolveSettings(entry).Model
            ?? throw new ConfigException($"provider '{entry.Name}' has no default model: pass --model, or set providers.{entry.Name}.default_model in {context.Config.DisplayPath} ('ally models --provider {entry.Name}' lists them).");
        var clients = context.Services.GetRequiredService<IChatClientProvider>();
        using var client = clients.Create(new ChatTarget(request.Role, entry.Name, resolvedModel, selection.Temperature, SessionId: null));

        var prompt = request.Prompt!;
        if (context.Streams.IsInputRedirected)
        {
            var piped = await context.Streams.Input.ReadToEndAsync(cancellationToken);
            if (!string.IsNullOrWhiteSpace(piped))
            {
                prompt = $"{prompt}\n\n{piped.TrimEnd()}";
            }
        }

        return request.NoTools
            ? await RunWithoutToolsAsync(context, request, client, entry.Name, resolvedModel, selection, prompt, cancellationToken)
            : await RunWithToolsAsync(context, request, client, entry.Name, resolvedModel, selection, prompt, cancellationToken);
    }

    private static async Task<int> RunWithoutToolsAsync(
        CommandContext context,
        PromptRequest request,
        IChatClient client,
        string provider,
        string model,
        RoleSelection selection,
        string prompt,
        CancellationToken cancellationToken)
    {
        List<ChatMessage> messages =
        [
            new(ChatRole.System, selection.SystemPrompt ?? RolePrompts.For(request.Role)),
            new(ChatRole.User, prompt),
        ];
        var options = new ChatOptions { ModelId = model, Temperature = (float?)selection.Temperature };

        var updates = new List<ChatResponseUpdate>();
        var text = new System.Text.StringBuilder();
        ChatResponse response;
        AdditionalPropertiesDictionary? routing;
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
                routing = updates.LastOrDefault(u => u.AdditionalProperties?.ContainsKey(CostReader.Key) == true)?.AdditionalProperties;
            }
            else
            {
                response = await client.GetResponseAsync(messages, options, cancellationToken);
                routing = response.AdditionalProperties;
                if (!request.Json)
                {
                    await context.Streams.Output.WriteAsync(response.Text);
                }
            }
        }
        catch (ProviderException ex)
        {
            return await FailAsync(context, request, ex, provider, text.ToString());
        }

        return await SucceedAsync(context, request, response, routing, provider, model, toolsRan: false);
    }

    /// <summary>Runs the turn through the tool loop, under the same permission rules as the chat.</summary>
    private static async Task<int> RunWithToolsAsync(
        CommandContext context,
        PromptRequest request,
        IChatClient client,
        string provider,
        string model,
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

        var response = result.ToChatResponse();
        return await SucceedAsync(context, request, response, response.AdditionalProperties, provider, model, toolsRan: true, result.CostUsd);
    }

    private static async Task<int> SucceedAsync(
        CommandContext context,
        PromptRequest request,
        ChatResponse response,
        AdditionalPropertiesDictionary? routing,
        string provider,
        string model,
        bool toolsRan,
        decimal? turnCost = null)
    {
        if (!request.Json)
        {
            await context.Streams.Output.WriteLineAsync();
            return ExitCodes.Success;
        }

        var servedBy = routing?.TryGetValue("ally.provider", out var p) == true && p is string name ? name : provider;
        var attempts = routing?.TryGetValue("ally.attempts", out var a) == true && a is IEnumerable<RouterAttempt> list ? list : [];
        var cost = toolsRan ? turnCost : CostReader.Read(routing);
        await context.Streams.Output.WriteLineAsync(JsonOutput.Result(response, servedBy, model, cost, Attempts(attempts), toolsRan));
        return ExitCodes.Success;
    }

    private static async Task<int> FailAsync(CommandContext context, PromptRequest request, ProviderException ex, string provider, string textSoFar)
    {
        var partial = ex.PartialText ?? (textSoFar.Length > 0 ? textSoFar : null);
        var message = context.Redactor.Redact(ex.Message);
        var who = ex.Provider ?? provider;
        if (request.Json)
        {
            var error = JsonNode.Parse(JsonOutput.Error(ErrorKindNames.Of(ex.Kind), message, who, ex.StatusCode, partial))!;
            error["attempts"] = Attempts(RouterAttempts.From(ex));
            await context.Streams.Output.WriteLineAsync(error.ToJsonString());
        }
        else if (partial is not null)
        {
            await context.Streams.Output.WriteLineAsync();
        }

        var said = message.Contains(who, StringComparison.OrdinalIgnoreCase) ? message : $"{who}: {message}";
        await context.Streams.Error.WriteLineAsync(partial is not null ? $"error: the answer is incomplete: {said}" : $"error: {said}");
        return ExitCodes.Failure;
    }

    private static JsonArray Attempts(IEnumerable<RouterAttempt> attempts) =>
        JsonNode.Parse(RouterAttempts.ToJson(attempts))!.AsArray();
}
