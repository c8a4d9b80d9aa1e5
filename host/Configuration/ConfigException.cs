namespace Ally.Host.Configuration;

/// <summary>
/// A configuration or usage error the user must fix: one sentence naming the file, the key and what is allowed.
/// The command line turns it into exit code 2 with no stack trace.
/// </summary>
internal sealed class ConfigException : Exception
{
    public ConfigException()
    {
    }

    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
