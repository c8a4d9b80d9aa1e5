using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Configuration;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Cli;

/// <summary><c>ally -p "prompt"</c>: one turn through the router, streamed to stdout or printed as JSON.</summary>
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
        using var client = context.Services.GetRequiredService<RouterFactory>().Create(entry.Name, resolvedModel, request.Role);

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
                routing = updates.LastOrDefault(u => u.AdditionalProperties?.ContainsKey("ally.provider") == true)?.AdditionalProperties;
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
            var partial = ex.PartialText ?? (text.Length > 0 ? text.ToString() : null);
            var message = context.Redactor.Redact(ex.Message);
            if (request.Json)
            {
                var error = JsonNode.Parse(JsonOutput.Error(ErrorKindNames.Of(ex.Kind), message, ex.Provider ?? entry.Name, ex.StatusCode, partial))!;
                error["attempts"] = Attempts(RouterAttempts.From(ex));
                await context.Streams.Output.WriteLineAsync(error.ToJsonString());
            }
            else if (partial is not null)
            {
                await context.Streams.Output.WriteLineAsync();
            }

            var who = ex.Provider ?? entry.Name;
            var said = message.Contains(who, StringComparison.OrdinalIgnoreCase) ? message : $"{who}: {message}";
            await context.Streams.Error.WriteLineAsync(partial is not null ? $"error: the answer is incomplete: {said}" : $"error: {said}");
            return ExitCodes.Failure;
        }

        var provider = routing?.TryGetValue("ally.provider", out var p) == true ? p?.ToString() ?? entry.Name : entry.Name;
        var cost = routing?.TryGetValue("ally.cost_usd", out var c) == true && c is decimal d ? d : (decimal?)null;
        var attempts = routing?.TryGetValue("ally.attempts", out var a) == true && a is IEnumerable<RouterAttempt> list ? list : [];
        if (request.Json)
        {
            await context.Streams.Output.WriteLineAsync(JsonOutput.Result(response, provider, resolvedModel, cost, Attempts(attempts)));
        }
        else
        {
            await context.Streams.Output.WriteLineAsync();
        }

        return ExitCodes.Success;
    }

    private static JsonArray Attempts(IEnumerable<RouterAttempt> attempts) =>
        JsonNode.Parse(RouterAttempts.ToJson(attempts))!.AsArray();
}
