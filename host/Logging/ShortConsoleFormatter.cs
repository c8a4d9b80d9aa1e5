using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Ally.Host.Logging;

/// <summary>
/// The console's log format without <c>--verbose</c>: one short line, <c>warning: message</c>, never a category, an
/// event id or a stack trace. The exception's details go to the log file; <c>--verbose</c> shows them here too.
/// </summary>
internal sealed class ShortConsoleFormatter : ConsoleFormatter
{
    public const string FormatterName = "ally-short";

    public ShortConsoleFormatter()
        : base(FormatterName)
    {
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(": ");
        textWriter.Write(string.IsNullOrEmpty(message) ? logEntry.Exception!.Message : message);
        if (logEntry.Exception is not null)
        {
            textWriter.Write(" (details in the log file; --verbose shows them here)");
        }

        textWriter.Write(Environment.NewLine);
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "log",
    };
}
