using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ally.Host.Configuration;

/// <summary>Changes a few keys of config.json and keeps every other key as it was (comments are not kept).</summary>
internal static class ConfigWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Selects <paramref name="provider"/> (and its model and endpoint when given) at the top level.</summary>
    public static void SelectProvider(string path, string provider, string? model, Uri? baseUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        JsonObject root;
        if (File.Exists(path))
        {
            try
            {
                root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                    ?? throw new ConfigException($"{path}: must be a JSON object to be updated.");
            }
            catch (JsonException ex)
            {
                throw new ConfigException($"{path}: is not valid JSON, so it was not changed: {ex.Message}", ex);
            }
        }
        else
        {
            root = [];
        }

        root["provider"] = provider;
        root["model"] = model;
        if (baseUrl is not null)
        {
            if (root["providers"] is not JsonObject providers)
            {
                providers = [];
                root["providers"] = providers;
            }

            if (providers[provider] is not JsonObject entry)
            {
                entry = [];
                providers[provider] = entry;
            }

            entry["base_url"] = baseUrl.ToString();
        }

        File.WriteAllText(path, root.ToJsonString(Indented) + "\n");
    }
}
