namespace Ally.Host.Logging;

/// <summary>
/// The last line of defence for secrets in log lines, shared by the log file and the console. Set once the keys are
/// known: the redactor needs the provider registry, which is built after logging (and logs while it is built).
/// </summary>
internal sealed class LogRedaction
{
    /// <summary>Gets or sets the function that masks secret values; <see langword="null"/> until the keys are known.</summary>
    public Func<string, string>? Redact { get; set; }

    public string Apply(string text) => Redact is { } redact ? redact(text) : text;
}
