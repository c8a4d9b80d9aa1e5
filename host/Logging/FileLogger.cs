using Microsoft.Extensions.Logging;

namespace Ally.Host.Logging;

/// <summary>One category's logger for <see cref="FileLoggerProvider"/>.</summary>
internal sealed class FileLogger : ILogger
{
    private readonly FileLoggerProvider _provider;
    private readonly string _category;
    private readonly LogLevel _minimum;

    public FileLogger(FileLoggerProvider provider, string category, LogLevel minimum)
    {
        _provider = provider;
        _category = category;
        _minimum = minimum;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (IsEnabled(logLevel))
        {
            _provider.Write(_category, logLevel, formatter(state, exception), exception);
        }
    }
}
