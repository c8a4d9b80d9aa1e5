namespace Ally.Host.Configuration;

/// <summary>The environment variables Ally sees: the <c>.env</c> beside config.json, overridden by the real environment.</summary>
internal sealed class AllyEnvironment
{
    private readonly IReadOnlyDictionary<string, string> _dotEnv;
    private readonly Func<string, string?> _real;

    public AllyEnvironment(IReadOnlyDictionary<string, string> dotEnv, Func<string, string?> real, string? dotEnvPath = null)
    {
        _dotEnv = dotEnv;
        _real = real;
        DotEnvPath = dotEnvPath;
    }

    /// <summary>Gets the path of the <c>.env</c> file Ally reads (whether or not it exists).</summary>
    public string? DotEnvPath { get; }

    /// <summary>Gets a variable's value; empty values count as unset.</summary>
    public string? Get(string name) =>
        _real(name) is { Length: > 0 } real ? real : _dotEnv.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    public bool IsSet(string name) => Get(name) is not null;

    /// <summary>Gets the names <c>.env</c> defines.</summary>
    public IEnumerable<string> DotEnvNames => _dotEnv.Keys;

    /// <summary>Loads <c>.env</c> from the config folder, reporting malformed lines through <paramref name="warn"/>.</summary>
    public static AllyEnvironment Load(string configDirectory, Action<string>? warn = null, Func<string, string?>? real = null)
    {
        var path = Path.Combine(configDirectory, ".env");
        var values = File.Exists(path)
            ? DotEnv.Parse(File.ReadAllText(path), path, warn)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        return new AllyEnvironment(values, real ?? Environment.GetEnvironmentVariable, path);
    }
}
