namespace Ally.Host.Gateway;

/// <summary>
/// Thrown out of the request once a failed stream's error event is flushed: Kestrel then closes the connection
/// without the closing chunk (HTTP/1.1) or resets the stream (HTTP/2), after sending what was flushed, so every
/// client sees the answer as cut. <c>HttpContext.Abort()</c> would race the error event and lose it.
/// </summary>
internal sealed class StreamCutException : Exception
{
    public StreamCutException()
        : base("The streamed answer failed after its first piece; the connection is closed without [DONE].")
    {
    }

    public StreamCutException(string message)
        : base(message)
    {
    }

    public StreamCutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
