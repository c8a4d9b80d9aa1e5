using Microsoft.Extensions.Logging;

namespace Ally.Host.Gateway;

/// <summary>
/// The host's logger factory, minus Kestrel's "unhandled exception" entry for a <see cref="StreamCutException"/>:
/// cutting a failed stream is deliberate and already logged by the gateway.
/// </summary>
internal sealed class GatewayLoggerFactory : ILoggerFactory
{
    private readonly ILoggerFactory _inner;

    public GatewayLoggerFactory(ILoggerFactory inner)
    {
        _inner = inner;
    }

    public ILogger CreateLogger(string categoryName)
    {
        var logger = _inner.CreateLogger(categoryName);
        return categoryName.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) ? new CutFilter(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    // The factory is the host's; the gateway must not dispose it.
    public void Dispose()
    {
    }

    private sealed class CutFilter(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is StreamCutException)
            {
                return;
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
