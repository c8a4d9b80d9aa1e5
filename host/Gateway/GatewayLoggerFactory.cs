using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ally.Host.Gateway;

/// <summary>
/// The host's logger factory as the gateway's web server sees it: ASP.NET Core's and Kestrel's own entries only from
/// <see cref="LogLevel.Warning"/> up, and without Kestrel's "unhandled exception" entry for a
/// <see cref="StreamCutException"/> (cutting a failed stream is deliberate and already logged by the gateway).
/// </summary>
/// <remarks>
/// Below Warning the framework writes several entries per request (connection started and stopped, request starting
/// and finished, endpoint matched and executed). <c>ally serve</c>'s file log takes Debug, and writing those lines
/// through its lock for every request cost more than the gateway's own work; the gateway logs its failures itself.
/// Hosting's diagnostics logger is silenced whole: while it is on at any level, ASP.NET Core starts an
/// <c>Activity</c> and a log scope for every request (HostingApplicationDiagnostics.BeginRequest), and it logs
/// nothing else the gateway does not report itself (start-up failures reach <see cref="GatewayHost"/> as exceptions).
/// </remarks>
internal sealed class GatewayLoggerFactory : ILoggerFactory
{
    private const string FrameworkPrefix = "Microsoft.AspNetCore";
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private readonly ILoggerFactory _inner;

    public GatewayLoggerFactory(ILoggerFactory inner)
    {
        _inner = inner;
    }

    public ILogger CreateLogger(string categoryName)
    {
        if (categoryName == HostingDiagnostics)
        {
            return NullLogger.Instance;
        }

        var logger = _inner.CreateLogger(categoryName);
        return categoryName.StartsWith(FrameworkPrefix, StringComparison.Ordinal) ? new FrameworkFilter(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    // The factory is the host's; the gateway must not dispose it.
    public void Dispose()
    {
    }

    private sealed class FrameworkFilter(ILogger inner) : ILogger
    {
        // No scopes: Kestrel opens one per connection, and Ally's loggers do not show them.
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < LogLevel.Warning || exception is StreamCutException)
            {
                return;
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
