using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Agent;
using Ally.Host.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Ally.Host.Cli;

/// <summary><c>ally sessions [--json]</c>: the saved chat sessions, the most recent first.</summary>
internal static class SessionsCommand
{
    public static Command Create(AllyCommandLine cli)
    {
        var command = new Command("sessions", "List saved chat sessions: id, start, role, provider and model, first prompt, turns, cost.");
        var limit = new Option<int>("--limit") { Description = "How many sessions to list (default 50).", DefaultValueFactory = _ => 50 };
        command.Options.Add(limit);
        command.SetAction((parseResult, _) => cli.RunAsync(parseResult, context => Task.FromResult(Run(context, parseResult.GetValue(limit)))));
        return command;
    }

    private static int Run(CommandContext context, int limit)
    {
        var sessions = context.Services.GetRequiredService<SessionStore>().List(Math.Max(1, limit));
        var output = context.Streams.Output;
        if (context.Json)
        {
            var array = new JsonArray();
            foreach (var s in sessions)
            {
                array.Add(new JsonObject
                {
                    ["id"] = s.Id,
                    ["started_at"] = s.StartedAt.ToString("O", CultureInfo.InvariantCulture),
                    ["updated_at"] = s.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
                    ["role"] = s.Role,
                    ["provider"] = s.Provider,
                    ["model"] = s.Model,
                    ["directory"] = s.Directory,
                    ["first_prompt"] = s.FirstPrompt,
                    ["turns"] = s.Turns,
                    ["cost_usd"] = s.UnknownCostTurns == s.Turns && s.Turns > 0 ? null : s.CostUsd,
                    ["unknown_cost_turns"] = s.UnknownCostTurns,
                });
            }

            output.WriteLine(new JsonObject { ["sessions"] = array }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }

        if (sessions.Count == 0)
        {
            output.WriteLine("No saved sessions yet; 'ally' starts one.");
            return ExitCodes.Success;
        }

        output.WriteLine($"{"ID",-10}  {"STARTED",-16}  {"ROLE",-12}  {"PROVIDER · MODEL",-36}  {"TURNS",5}  {"COST",-12}  FIRST PROMPT");
        foreach (var s in sessions)
        {
            var prompt = (s.FirstPrompt ?? string.Empty).ReplaceLineEndings(" ");
            var cost = s.UnknownCostTurns == s.Turns && s.Turns > 0 ? "unknown" : CostReader.Format(s.CostUsd) + (s.UnknownCostTurns > 0 ? "+" : string.Empty);
            var target = $"{s.Provider} · {s.Model ?? "default"}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Id,-10}  {s.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm}  {s.Role,-12}  {(target.Length > 36 ? target[..35] + "…" : target),-36}  {s.Turns,5}  {cost,-12}  {(prompt.Length > 50 ? prompt[..50] + "…" : prompt)}"));
        }

        output.WriteLine();
        output.WriteLine("Resume one with: ally -i ID   (or the last one here: ally --continue)");
        return ExitCodes.Success;
    }
}
