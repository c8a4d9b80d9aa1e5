using System.Text.Json;

namespace Ally.Host.Configuration;

/// <summary>config.json as read and validated at start-up, in the original Ally format plus Ally's additions.</summary>
internal sealed record AllyConfig
{
    /// <summary>Gets the full path of the file (which may not exist: then every value is a default).</summary>
    public required string FilePath { get; init; }

    /// <summary>Gets a value indicating whether the file exists.</summary>
    public bool Exists { get; init; }

    /// <summary>Gets the folder relative paths in the file are resolved against.</summary>
    public string Directory => Path.GetDirectoryName(FilePath)!;

    /// <summary>Gets the file name as shown in messages (relative to the current folder when shorter).</summary>
    public string DisplayPath { get; init; } = "config.json";

    /// <summary>Gets the top-level provider, inherited by roles whose value is null.</summary>
    public string? Provider { get; init; }

    /// <summary>Gets the top-level model, inherited by roles whose value is null.</summary>
    public string? Model { get; init; }

    /// <summary>Gets <c>provider_per_model</c>: the provider of each role.</summary>
    public IReadOnlyDictionary<string, string?> ProviderPerRole { get; init; } = Empty<string?>();

    /// <summary>Gets <c>models</c>: the model of each role.</summary>
    public IReadOnlyDictionary<string, string?> Models { get; init; } = Empty<string?>();

    /// <summary>Gets <c>temperatures</c>: the temperature of each role, 0 to 2.</summary>
    public IReadOnlyDictionary<string, double?> Temperatures { get; init; } = Empty<double?>();

    /// <summary>Gets <c>system_prompts</c>: the system prompt of each role; null uses the built-in prompt.</summary>
    public IReadOnlyDictionary<string, string?> SystemPrompts { get; init; } = Empty<string?>();

    /// <summary>Gets the top-level <c>temperature</c>, 0 to 2, inherited by roles whose value is null.</summary>
    public double? Temperature { get; init; }

    /// <summary>Gets the absolute path of the plugins folder (<c>plugins_dir</c>, default <c>plugins</c> beside the file).</summary>
    public required string PluginsDirectory { get; init; }

    /// <summary>Gets the entries of the <c>providers</c> object, by name.</summary>
    public IReadOnlyDictionary<string, ProviderConfig> Providers { get; init; } = new Dictionary<string, ProviderConfig>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the whole document, for the sections other features read (router, budget, tools, gateway).</summary>
    public JsonElement Root { get; init; }

    /// <summary>Gets the keys of the file that Ally does not know, reported as warnings.</summary>
    public IReadOnlyList<string> UnknownKeys { get; init; } = [];

    /// <summary>Resolves what a role uses: its own value when set, else the top-level one.</summary>
    public RoleSelection ForRole(string role) => new(
        role,
        Get(ProviderPerRole, role) ?? Provider,
        Get(Models, role) ?? Model,
        Get(Temperatures, role) ?? Temperature,
        Get(SystemPrompts, role));

    private static T? Get<T>(IReadOnlyDictionary<string, T?> map, string role) => map.TryGetValue(role, out var value) ? value : default;

    private static Dictionary<string, T> Empty<T>() => new(StringComparer.Ordinal);
}
