using System.Text.Json;
using System.Text.RegularExpressions;
using Ally.Host.Configuration;

namespace Ally.Host.Gateway;

/// <summary>Validates the body of <c>POST /api/providers/register</c>: one config.json provider entry plus its <c>name</c>.</summary>
internal static partial class ProviderRegistration
{
    private const string Where = "request body";

    private static readonly HashSet<string> Types = new(StringComparer.Ordinal) { "openai-compatible", "anthropic-compatible", "gemini", "ollama", "azure" };

    private static readonly HashSet<string> EntryKeys = new(StringComparer.Ordinal) { "name", "type", "base_url", "api_key_env", "default_model", "timeout_seconds" };

    /// <summary>Reads the entry or throws a <see cref="ConfigException"/> naming the field and what is allowed.</summary>
    public static ProviderConfig Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigException($"{Where}: must be a JSON object such as {{\"name\":\"mine\",\"type\":\"openai-compatible\",\"base_url\":\"https://...\"}}.");
        }

        var reader = new ConfigReader(Where, body);
        var name = reader.GetString("name");
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw reader.Error("name", "is required: lower-case letters, digits, '.', '_' or '-', at most 64 characters");
        }

        var type = reader.GetString("type");
        if (type is null || !Types.Contains(type))
        {
            throw reader.Error("type", $"is required; allowed: {string.Join(", ", Types.Order(StringComparer.Ordinal))}");
        }

        var keyVariable = reader.GetString("api_key_env");
        if (keyVariable is not null && (!VariablePattern().IsMatch(keyVariable) || keyVariable.StartsWith("ALLY_GATEWAY", StringComparison.Ordinal)))
        {
            // The gateway's own keys must never be sent to a provider that a caller of this endpoint chose.
            throw reader.Error("api_key_env", "must be an environment variable name such as MY_PROVIDER_API_KEY (not one of the gateway's own)");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in body.EnumerateObject())
        {
            if (EntryKeys.Contains(property.Name))
            {
                continue;
            }

            values[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                _ => throw reader.Error(property.Name, "must be a string, a number or a boolean"),
            };
        }

        return new ProviderConfig
        {
            Name = name,
            Type = type,
            BaseUrl = reader.GetHttpUrl("base_url"),
            ApiKeyEnv = keyVariable,
            DefaultModel = reader.GetString("default_model"),
            TimeoutSeconds = reader.GetDouble("timeout_seconds", 1, 3600),
            Values = values,
        };
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex VariablePattern();
}
