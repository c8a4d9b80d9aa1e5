using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Cli;

/// <summary><c>ally health [--json]</c>: checks every configured provider concurrently with a short timeout.</summary>
internal static class HealthCommand
{
    public static Command Create(AllyCommandLine cli)
    {
        var timeout = new Option<double>("--timeout") { Description = "Seconds each check may take.", DefaultValueFactory = _ => 5 };
        var command = new Command("health", "Check every configured provider: status and latency.") { timeout };
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, context => RunAsync(context, TimeSpan.FromSeconds(Math.Clamp(parseResult.GetValue(timeout), 0.1, 120)), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var results = await context.Services.GetRequiredService<ProviderProbe>().CheckAllAsync(timeout, cancellationToken);
        var cooldowns = context.Services.GetRequiredService<RouterFactory>().Cooldowns.ToDictionary(c => c.Provider, StringComparer.Ordinal);
        if (context.Json)
        {
            var providers = new JsonArray([.. results.Select(r => (JsonNode?)new JsonObject
            {
                ["name"] = r.Provider,
                ["status"] = r.Status,
                ["latency_ms"] = r.LatencyMs,
                ["error_kind"] = r.ErrorKind,
                ["message"] = r.Message is null ? null : context.Redactor.Redact(r.Message),
                ["cooldown"] = cooldowns.TryGetValue(r.Provider, out var c) ? new JsonObject { ["reason"] = c.Reason, ["until"] = c.Until } : null,
            })]);
            await context.Streams.Output.WriteLineAsync(new JsonObject { ["providers"] = providers }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            var width = Math.Max(8, results.Select(r => r.Provider.Length).DefaultIfEmpty(8).Max());
            await context.Streams.Output.WriteLineAsync($"{"PROVIDER".PadRight(width)}  {"STATUS",-9}  {"LATENCY",9}  DETAILS");
            foreach (var r in results)
            {
                var latency = r.LatencyMs is { } ms ? $"{ms:0} ms" : "-";
                var cooling = cooldowns.TryGetValue(r.Provider, out var c) ? $" [cooling down ({c.Reason}) until {c.Until.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC]" : string.Empty;
                await context.Streams.Output.WriteLineAsync($"{r.Provider.PadRight(width)}  {r.Status,-9}  {latency,9}  {context.Redactor.Redact(r.Message)}{cooling}");
            }
        }

        return results.Any(r => r.Status == ProviderHealth.Up) || results.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
