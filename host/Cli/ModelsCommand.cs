using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Cli;

/// <summary><c>ally models [--provider NAME] [--json]</c>: models from each provider's API, or its known list with a note.</summary>
internal static class ModelsCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static Command Create(AllyCommandLine cli)
    {
        var provider = new Option<string?>("--provider") { Description = "Only this provider (default: every ready provider)." };
        var command = new Command("models", "List the models of each ready provider.") { provider };
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, context => RunAsync(context, parseResult.GetValue(provider), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, string? providerName, CancellationToken cancellationToken)
    {
        var registry = context.Registry;
        var probe = context.Services.GetRequiredService<ProviderProbe>();
        var entries = providerName is not null
            ? [registry.Get(providerName)]
            : registry.Entries.Where(e => registry.GetStatus(e).IsReady).ToList();
        var listings = await Task.WhenAll(entries.Select(e => probe.ListModelsAsync(e, Timeout, cancellationToken)));

        if (context.Json)
        {
            var providers = new JsonArray();
            foreach (var listing in listings)
            {
                providers.Add(new JsonObject
                {
                    ["name"] = listing.Provider,
                    ["source"] = listing.Source,
                    ["note"] = listing.Note is null ? null : context.Redactor.Redact(listing.Note),
                    ["models"] = new JsonArray([.. listing.Models.Select(m => (JsonNode?)new JsonObject
                    {
                        ["id"] = m.Id,
                        ["display_name"] = m.DisplayName,
                        ["context_window"] = m.ContextWindow,
                        ["max_output_tokens"] = m.MaxOutputTokens,
                        ["owned_by"] = m.OwnedBy,
                    })]),
                });
            }

            await context.Streams.Output.WriteLineAsync(new JsonObject { ["providers"] = providers }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }

        if (listings.Length == 0)
        {
            await context.Streams.Output.WriteLineAsync("No provider is ready: set a key in .env (see 'ally providers').");
            return ExitCodes.Success;
        }

        foreach (var listing in listings)
        {
            await context.Streams.Output.WriteLineAsync($"{listing.Provider} ({(listing.Source == "api" ? "from the API" : "known models")}){(listing.Note is null ? string.Empty : " - " + context.Redactor.Redact(listing.Note))}");
            foreach (var model in listing.Models)
            {
                var extra = model.ContextWindow is { } window ? $"  ({window:N0} tokens)" : string.Empty;
                await context.Streams.Output.WriteLineAsync($"  {model.Id}{extra}");
            }
        }

        return ExitCodes.Success;
    }
}
