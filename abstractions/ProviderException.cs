namespace Ally.Abstractions;

/// <summary>Represents a failed provider call, classified so that a router can handle it.</summary>
/// <remarks>The message is the provider's own words and never contains a secret.</remarks>
public sealed class ProviderException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ProviderException"/> class.</summary>
    public ProviderException()
        : this(ProviderErrorKind.Unknown, "The provider call failed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ProviderException"/> class.</summary>
    /// <param name="message">The message.</param>
    public ProviderException(string message)
        : this(ProviderErrorKind.Unknown, message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ProviderException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ProviderException(string message, Exception? innerException)
        : this(ProviderErrorKind.Unknown, message, innerException: innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ProviderException"/> class.</summary>
    /// <param name="kind">Why the call failed.</param>
    /// <param name="message">The provider's own message, free of secrets.</param>
    /// <param name="provider">The provider's name, when known.</param>
    /// <param name="statusCode">The HTTP status code, when there was one.</param>
    /// <param name="retryAfter">How long the provider asked the caller to wait, when it said.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public ProviderException(
        ProviderErrorKind kind,
        string message,
        string? provider = null,
        int? statusCode = null,
        TimeSpan? retryAfter = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Provider = provider;
        StatusCode = statusCode;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets why the call failed.</summary>
    public ProviderErrorKind Kind { get; }

    /// <summary>Gets the name of the provider that failed, when known.</summary>
    public string? Provider { get; init; }

    /// <summary>Gets the HTTP status code, when there was one.</summary>
    public int? StatusCode { get; }

    /// <summary>Gets how long the provider asked the caller to wait before trying again, when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets the provider's own error code (for example <c>context_length_exceeded</c>), when it sent one.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>Gets the text streamed before a <see cref="ProviderErrorKind.TruncatedStream"/> failure, when any.</summary>
    public string? PartialText { get; init; }
}
