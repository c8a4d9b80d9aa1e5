using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Ally.Host.Logging;

/// <summary>
/// The console's log format. Without <c>--verbose</c>: one short line, <c>warning: message</c>, never a category, an
/// event id or a stack trace (the exception's details go to the log file). With it: the category and the whole
/// exception. Either way every line passes through the secret redactor, as the log file's do.
/// </summary>
internal sealed class ConsoleLineFormatter : ConsoleFormatter
{
    public const string FormatterName = "ally";

    private readonly LogRedaction _redaction;
    private readonly IOptionsMonitor<ConsoleLineFormatterOptions> _options;

    public ConsoleLineFormatter(LogRedaction redaction, IOptionsMonitor<ConsoleLineFormatterOptions> options)
        : base(FormatterName)
    {
        _redaction = redaction;
        _options = options;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        var exception = logEntry.Exception;
        if (string.IsNullOrEmpty(message) && exception is null)
        {
            return;
        }

        var line = _options.CurrentValue.Verbose
            ? $"{Level(logEntry.LogLevel)}: {logEntry.Category}: {message}{(exception is null ? "" : Environment.NewLine + exception)}"
            : $"{Level(logEntry.LogLevel)}: {(string.IsNullOrEmpty(message) ? exception!.Message : message)}" +
              (exception is null ? "" : " (details in the log file; --verbose shows them here)");
        textWriter.Write(_redaction.Apply(line));
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
