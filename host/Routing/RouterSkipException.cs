namespace Ally.Host.Routing;

/// <summary>The router itself declined to send an attempt (a local <c>rpm</c>/<c>tpm</c> limit); it moves on to the next candidate.</summary>
internal sealed class RouterSkipException : Exception
{
    public RouterSkipException()
    {
    }

    public RouterSkipException(string message)
        : base(message)
    {
    }

    public RouterSkipException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public string Error { get; init; } = ErrorKindNames.LocalRateLimit;
}
