using System.Globalization;
using System.Text.Json;

namespace Ally.Host.Configuration;

/// <summary>Finds, reads and validates config.json, turning every mistake into one clear <see cref="ConfigException"/>.</summary>
internal static class ConfigLoader
{
    public const string FileName = "config.json";
    public const string ConfigVariable = "ALLY_CONFIG";

    private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal)
    {
        "provider", "model", "provider_per_model", "models", "temperatures", "temperature", "system_prompts",
        "plugins_dir", "providers", "fallbacks", "router", "budget", "pricing", "tools", "gateway", "aliases", "$schema",
    };

    private static readonly HashSet<string> ProviderKeys = new(StringComparer.Ordinal)
    {
        "type", "base_url", "api_key_env", "default_model", "timeout_seconds",
    };

    private static readonly HashSet<string> ProviderTypes = new(StringComparer.Ordinal)
    {
        "openai-compatible", "anthropic-compatible", "gemini", "ollama", "azure",
    };

    /// <summary>Finds the file: <paramref name="explicitPath"/>, else <c>ALLY_CONFIG</c>, else <c>./config.json</c>.</summary>
    public static string Locate(string? explicitPath, Func<string, string?> getEnvironmentVariable, string currentDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var full = Path.GetFullPath(explicitPath, currentDirectory);
            return File.Exists(full) ? full : throw new ConfigException($"{explicitPath}: no such file (given with --config).");
        }

        if (getEnvironmentVariable(ConfigVariable) is { Length: > 0 } fromEnv)
        {
            var full = Path.GetFullPath(fromEnv, currentDirectory);
            return File.Exists(full) ? full : throw new ConfigException($"{fromEnv}: no such file (named by {ConfigVariable}).");
        }

        return Path.Combine(currentDirectory, FileName);
    }

    /// <summary>Reads the file at <paramref name="path"/>; a missing file gives the defaults.</summary>
    public static AllyConfig Load(string path, string? pluginsOverride = null, string? currentDirectory = null)
    {
        currentDirectory ??= Environment.CurrentDirectory;
        var display = DisplayName(path, currentDirectory);
        var directory = Path.GetDirectoryName(path)!;
        if (!File.Exists(path))
        {
            using var empty = JsonDocument.Parse("{}");
            return new AllyConfig
            {
                FilePath = path,
                DisplayPath = display,
                Exists = false,
                Root = empty.RootElement.Clone(),
                PluginsDirectory = ResolvePlugins(pluginsOverride, currentDirectory, "plugins", directory),
            };
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var line = (ex.LineNumber ?? 0) + 1;
            var column = (ex.BytePositionInLine ?? 0) + 1;
            throw new ConfigException($"{display}: line {line}, column {column}: {Describe(ex)} Fix the JSON and run again.", ex);
        }
        catch (IOException ex)
        {
            throw new ConfigException($"{display}: cannot be read: {ex.Message}", ex);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigException($"{display}: must be a JSON object ({{ ... }}), not {Kind(root)}.");
        }

        var reader = new ConfigReader(display, root);
        var config = new AllyConfig
        {
            FilePath = path,
            DisplayPath = display,
            Exists = true,
            Root = root,
            Provider = NormalizeName(reader.GetString("provider")),
            Model = reader.GetString("model"),
            Temperature = reader.GetDouble("temperature", 0, 2),
            ProviderPerRole = RoleMap(reader, "provider_per_model", (r, key) => NormalizeName(r.GetString(key))),
            Models = RoleMap(reader, "models", (r, key) => r.GetString(key)),
            Temperatures = RoleMap(reader, "temperatures", (r, key) => r.GetDouble(key, 0, 2)),
            SystemPrompts = RoleMap(reader, "system_prompts", (r, key) => r.GetString(key)),
            PluginsDirectory = ResolvePlugins(pluginsOverride, currentDirectory, reader.GetString("plugins_dir") ?? "plugins", directory),
            Providers = ReadProviders(reader),
            UnknownKeys = root.EnumerateObject().Select(p => p.Name).Where(k => !KnownKeys.Contains(k)).ToList(),
        };
        return config;
    }

    private static Dictionary<string, ProviderConfig> ReadProviders(ConfigReader reader)
    {
        var result = new Dictionary<string, ProviderConfig>(StringComparer.OrdinalIgnoreCase);
        if (reader.GetObject("providers") is not { } providers)
        {
            return result;
        }

        foreach (var name in providers.Keys)
        {
            var entry = providers.GetObject(name) ?? throw new ConfigException($"{reader.File}: 'providers.{name}' must be an object such as {{\"base_url\": \"...\"}}.");
            var normalized = NormalizeName(name)!;
            var type = entry.GetString("type");
            if (type is not null && !ProviderTypes.Contains(type))
            {
                throw new ConfigException($"{reader.File}: 'providers.{name}.type' is '{type}'; allowed: {string.Join(", ", ProviderTypes.Order(StringComparer.Ordinal))}.");
            }

            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in entry.Element.EnumerateObject())
            {
                if (!ProviderKeys.Contains(property.Name) && property.Value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Object or JsonValueKind.Array))
                {
                    values[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }

            result[normalized] = new ProviderConfig
            {
                Name = normalized,
                Type = type,
                BaseUrl = entry.GetHttpUrl("base_url"),
                ApiKeyEnv = entry.GetString("api_key_env"),
                DefaultModel = entry.GetString("default_model"),
                TimeoutSeconds = entry.GetDouble("timeout_seconds", 1, 3600),
                Values = values,
            };
        }

        return result;
    }

    private static Dictionary<string, T?> RoleMap<T>(ConfigReader reader, string key, Func<ConfigReader, string, T?> read)
    {
        var map = new Dictionary<string, T?>(StringComparer.Ordinal);
        if (reader.GetObject(key) is not { } section)
        {
            return map;
        }

        foreach (var role in section.Keys)
        {
            if (!AllyRoles.IsKnown(role))
            {
                throw new ConfigException($"{reader.File}: '{key}.{role}' is not a role; the roles are {string.Join(", ", AllyRoles.All)}.");
            }

            map[role] = read(section, role);
        }

        return map;
    }

    private static string ResolvePlugins(string? overridePath, string currentDirectory, string configured, string configDirectory) =>
        overridePath is { Length: > 0 }
            ? Path.GetFullPath(overridePath, currentDirectory)
            : Path.GetFullPath(configured, configDirectory);

    internal static string? NormalizeName(string? name) => name?.Trim().ToLowerInvariant() is { Length: > 0 } n ? n : null;

    private static string DisplayName(string path, string currentDirectory)
    {
        var relative = Path.GetRelativePath(currentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    private static string Describe(JsonException ex)
    {
        // System.Text.Json appends "LineNumber: .. | BytePositionInLine: .." which we report ourselves.
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        message = cut > 0 ? message[..cut] : message;
        return message.EndsWith('.') ? message : message + ".";
    }

    internal static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
