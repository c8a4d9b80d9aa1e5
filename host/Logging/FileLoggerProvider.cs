using Ally.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Logging;

/// <summary>
/// Writes log lines to one file a day, <c>logs/ally-YYYYMMDD.log</c> under the data folder, so that the console can
/// stay quiet while the details of a failure are still kept somewhere.
/// </summary>
/// <remarks>Thread-safe: one lock around the writer; the file is reopened when the day changes.</remarks>
[ProviderAlias("File")]
internal sealed class FileLoggerProvider : ILoggerProvider
{
    private readonly string _directory;
    private readonly TimeProvider _timeProvider;
    private readonly LogLevel _minimum;
    private readonly Lock _gate = new();
    private StreamWriter? _writer;
    private string? _currentFile;
    private bool _failed;

    public FileLoggerProvider(string directory, TimeProvider timeProvider, LogLevel minimum = LogLevel.Debug)
    {
        _directory = directory;
        _timeProvider = timeProvider;
        _minimum = minimum;
    }

    /// <summary>
    /// Gets or sets the last line of defence for secrets in log lines; set once the keys are known (the redactor
    /// needs the provider registry, which is built after logging).
    /// </summary>
    public Func<string, string>? Redact { get; set; }

    /// <summary>Gets the folder the files are written to.</summary>
    public string Directory => _directory;

    /// <summary>Gets the path of today's file (which may not exist yet).</summary>
    public string CurrentPath => Path.Combine(_directory, FileName(_timeProvider.GetUtcNow()));

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName, _minimum);

    public void Dispose()
    {
        lock (_gate)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    internal void Write(string category, LogLevel level, string message, Exception? exception)
    {
        var now = _timeProvider.GetUtcNow();
        var line = $"{now:yyyy-MM-ddTHH:mm:ss.fffZ} {Level(level)} {category}: {message}";
        if (exception is not null)
        {
            line += Environment.NewLine + exception;
        }

        if (Redact is { } redact)
        {
            line = redact(line);
        }

        lock (_gate)
        {
            if (_failed)
            {
                return;
            }

            try
            {
                var path = Path.Combine(_directory, FileName(now));
                if (_writer is null || _currentFile != path)
                {
                    _writer?.Dispose();
                    AllyPaths.EnsurePrivateDirectory(_directory);
                    var created = !File.Exists(path);
                    _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
                    if (created)
                    {
                        AllyPaths.MakePrivate(path);
                    }

                    _currentFile = path;
                }

                _writer.WriteLine(line);
            }
            catch (IOException)
            {
                // A read-only home must not break the chat: logging stops, the program goes on.
                _failed = true;
            }
            catch (UnauthorizedAccessException)
            {
                _failed = true;
            }
        }
    }

    private static string FileName(DateTimeOffset now) => $"ally-{now:yyyyMMdd}.log";

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO ",
        LogLevel.Warning => "WARN ",
        LogLevel.Error => "ERROR",
        LogLevel.Critical => "CRIT ",
        _ => "     ",
    };
}
