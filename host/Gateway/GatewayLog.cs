using Microsoft.Extensions.Logging;

namespace Ally.Host.Gateway;

/// <summary>The gateway's log messages. Messages are redacted before they get here; prompts and answers are never logged.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Model}: {Status} {Code}: {Message}")]
    public static partial void CallFailed(ILogger logger, string model, int status, string code, string message);

    // The exception object is not logged: a plugin's message or stack could carry a secret; the redacted text is.
    [LoggerMessage(Level = LogLevel.Error, Message = "{Model}: the gateway failed while serving the call: {ExceptionType}: {Message}")]
    public static partial void CallCrashed(ILogger logger, string model, string exceptionType, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Model}: client went away; upstream call cancelled")]
    public static partial void ClientAborted(ILogger logger, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "provider '{Provider}' registered at run time ({Type})")]
    public static partial void ProviderRegistered(ILogger logger, string provider, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "default provider set to '{Provider}'")]
    public static partial void DefaultProviderSet(ILogger logger, string provider);
}
