using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Providers;

namespace Ally.Host.Cli;

/// <summary><c>ally providers [--json]</c>: every installed provider, where it came from, and whether it is ready.</summary>
internal static class ProvidersCommand
{
    public static Command Create(AllyCommandLine cli)
    {
        var command = new Command("providers", "List every installed provider, its source and whether it is ready.");
        command.SetAction((parseResult, _) => cli.RunAsync(parseResult, context => Task.FromResult(Run(context))));
        return command;
    }

    private static int Run(CommandContext context)
    {
        var registry = context.Registry;
        var rows = registry.Entries.Select(entry => (Entry: entry, Status: registry.GetStatus(entry))).ToList();
        var warnings = registry.Warnings.Concat(SelectionWarnings(context)).Select(context.Redactor.Redact).ToList();
        if (context.Json)
        {
            var providers = new JsonArray();
            foreach (var (entry, status) in rows)
            {
                providers.Add(new JsonObject
                {
                    ["name"] = entry.Name,
                    ["source"] = entry.SourceName,
                    ["path"] = entry.Path,
                    ["default_model"] = registry.ResolveSettings(entry).Model,
                    ["required_env_vars"] = new JsonArray([.. registry.RequiredVariables(entry).Select(v => (JsonNode?)v)]),
                    ["missing_env_vars"] = new JsonArray([.. status.MissingEnvVars.Select(v => (JsonNode?)v)]),
                    ["status"] = status.State,
                    ["message"] = status.Message is null ? null : context.Redactor.Redact(status.Message),
                    ["overrides_builtin"] = entry.OverridesBuiltIn,
                });
            }

            var document = new JsonObject
            {
                ["providers"] = providers,
                ["warnings"] = new JsonArray([.. warnings.Select(w => (JsonNode?)w)]),
            };
            context.Streams.Output.WriteLine(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Success;
        }

        var output = context.Streams.Output;
        var nameWidth = Math.Max(8, rows.Max(r => r.Entry.Name.Length));
        output.WriteLine($"{"PROVIDER".PadRight(nameWidth)}  {"SOURCE",-8}  {"STATUS",-11}  {"DEFAULT MODEL",-34}  NOTES");
        foreach (var (entry, status) in rows)
        {
            var notes = new List<string>();
            if (entry.Path is not null)
            {
                notes.Add(entry.Path);
            }

            if (entry.OverridesBuiltIn)
            {
                notes.Add("overrides the built-in");
            }

            if (status.Message is not null)
            {
                notes.Add(context.Redactor.Redact(status.Message));
            }

            var model = registry.ResolveSettings(entry).Model ?? "-";
            output.WriteLine($"{entry.Name.PadRight(nameWidth)}  {entry.SourceName,-8}  {status.State,-11}  {model,-34}  {string.Join("; ", notes)}");
        }

        if (warnings.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Warnings:");
            foreach (var warning in warnings)
            {
                output.WriteLine($"  - {warning}");
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// The selections in config.json that name no installed provider: every other command stops on them, while this
    /// one, which a user runs to find out what is wrong, lists them.
    /// </summary>
    private static IEnumerable<string> SelectionWarnings(CommandContext context)
    {
        var config = context.Config;
        var selections = new List<(string Key, string Name)>();
        if (config.Provider is { } top)
        {
            selections.Add(("provider", top));
        }

        selections.AddRange(config.ProviderPerRole.Where(p => p.Value is not null).Select(p => ($"provider_per_model.{p.Key}", p.Value!)));
        foreach (var (key, name) in selections)
        {
            if (context.Registry.Find(name) is null)
            {
                yield return $"{config.DisplayPath}: '{key}' is '{name}', which is not installed; choose one of the providers listed here, or drop its plugin into {Path.GetRelativePath(Environment.CurrentDirectory, config.PluginsDirectory)}.";
            }
        }
    }
}
