namespace Ally.Host.Agent.Tools;

/// <summary>A tool call that cannot be done as asked; the message goes back to the model as the tool's result.</summary>
internal sealed class ToolException : Exception
{
    public ToolException()
    {
    }

    public ToolException(string message)
        : base(message)
    {
    }

    public ToolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
