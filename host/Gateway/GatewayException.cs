namespace Ally.Host.Gateway;

/// <summary>Thrown inside the gateway to answer a request with an OpenAI-style error.</summary>
internal sealed class GatewayException : Exception
{
    public GatewayException()
        : this(new GatewayError(500, GatewayError.Server, "internal_error", "The gateway failed."))
    {
    }

    public GatewayException(string message)
        : this(GatewayError.BadRequest(message))
    {
    }

    public GatewayException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Error = GatewayError.BadRequest(message);
    }

    public GatewayException(GatewayError error)
        : base(error?.Message)
    {
        ArgumentNullException.ThrowIfNull(error);
        Error = error;
    }

    public GatewayError Error { get; }
}
