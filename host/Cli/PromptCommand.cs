using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Configuration;
using Microsoft.Extensions.AI;

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
        var resolvedModel = model ?? context.Registry.ResolveSettings(entry).Model
            ?? throw new ConfigException($"provider '{entry.Name}' has no default model: pass --model, or set providers.{entry.Name}.default_model in {context.Config.DisplayPath} ('ally models --provider {entry.Name}' lists them).");
        using var client = context.Registry.CreateClient(entry.Name, model, selection.Temperature);

        var prompt = request.Prompt!;
        if (context.Streams.IsInputRedirected)
        {
            var piped = await context.Streams.Input.ReadToEndAsync(cancellationToken);
            if (!string.IsNullOrWhiteSpace(piped))
            {
                prompt = $"{prompt}\n\n{piped.TrimEnd()}";
            }
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
        catch (ProviderException ex) when (request.Json)
        {
            var partial = ex.PartialText ?? (text.Length > 0 ? text.ToString() : null);
            await context.Streams.Output.WriteLineAsync(JsonOutput.Error(ErrorKinds.Name(ex.Kind), context.Redactor.Redact(ex.Message), ex.Provider ?? entry.Name, ex.StatusCode, partial));
            await context.Streams.Error.WriteLineAsync($"error: {context.Redactor.Redact(ex.Message)}");
            return ExitCodes.Failure;
        }
        catch (ProviderException ex) when (ex.Kind == ProviderErrorKind.TruncatedStream || text.Length > 0)
        {
            await context.Streams.Output.WriteLineAsync();
            await context.Streams.Error.WriteLineAsync($"error: the answer is incomplete: {context.Redactor.Redact(ex.Message)}");
            return ExitCodes.Failure;
        }

        if (request.Json)
        {
            await context.Streams.Output.WriteLineAsync(JsonOutput.Result(response, entry.Name, resolvedModel, costUsd: null, attempts: []));
        }
        else
        {
            await context.Streams.Output.WriteLineAsync();
        }

        return ExitCodes.Success;
    }
}
