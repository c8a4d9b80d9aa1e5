namespace Ally.Host.Configuration;

/// <summary>
/// The last line of defence for secrets: replaces the value of every secret-looking variable Ally knows with
/// <c>***</c> in text bound for the user, whatever produced it (a plugin's exception message, a provider's echo).
/// </summary>
internal sealed class SecretRedactor
{
    private static readonly string[] SecretMarkers = ["KEY", "TOKEN", "SECRET", "PASSWORD"];

    private readonly List<string> _secrets;

    public SecretRedactor(IEnumerable<string> secrets)
    {
        // Longest first so that a key containing another key is replaced whole.
        _secrets = secrets.Where(s => s.Length >= 8).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToList();
    }

    public static SecretRedactor None { get; } = new([]);

    /// <summary>Collects the values of secret-looking variables from the environment and <c>.env</c>.</summary>
    public static SecretRedactor FromEnvironment(AllyEnvironment environment, IEnumerable<string> variableNames)
    {
        var names = variableNames.Concat(environment.DotEnvNames).Concat(System.Environment.GetEnvironmentVariables().Keys.OfType<string>())
            .Where(n => SecretMarkers.Any(m => n.Contains(m, StringComparison.OrdinalIgnoreCase)))
            .Distinct(StringComparer.Ordinal);
        return new SecretRedactor(names.Select(environment.Get).OfType<string>());
    }

    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }

        return text;
    }
}
