using Ally.Host.Configuration;
using Ally.Host.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ally.Host.Tests.Logging;

public sealed class ConsoleLineFormatterTests
{
    private const string Key = "sk-console-0123456789abcdef";

    [Fact]
    public void Write_Short_OneLineWithoutStackTraceOrSecret()
    {
        // Given
        var formatter = Formatter(verbose: false);

        // When
        var text = Format(formatter, $"plugin said {Key}", Thrown($"bad key {Key}"));

        // Then
        Assert.Equal($"warning: plugin said *** (details in the log file; --verbose shows them here){Environment.NewLine}", text);
    }

    [Fact]
    public void Write_Verbose_CategoryAndExceptionWithoutSecret()
    {
        // Given
        var formatter = Formatter(verbose: true);

        // When
        var text = Format(formatter, "call failed", Thrown($"bad key {Key}"));

        // Then
        Assert.StartsWith("warning: Ally.Test: call failed", text, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException: bad key ***", text, StringComparison.Ordinal);
        Assert.Contains(" at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_BeforeTheKeysAreKnown_WritesTheLineAsItIs()
    {
        // Given: start-up logs before the provider registry (and so the redactor) exists
        var formatter = new ConsoleLineFormatter(new LogRedaction(), new FixedOptions(new ConsoleLineFormatterOptions()));

        // When
        var text = Format(formatter, "loading plugins", exception: null);

        // Then
        Assert.Equal($"warning: loading plugins{Environment.NewLine}", text);
    }

    private static ConsoleLineFormatter Formatter(bool verbose) =>
        new(new LogRedaction { Redact = new SecretRedactor([Key]).Redact }, new FixedOptions(new ConsoleLineFormatterOptions { Verbose = verbose }));

    private static string Format(ConsoleLineFormatter formatter, string message, Exception? exception)
    {
        using var writer = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Warning, "Ally.Test", new EventId(1), message, exception, (state, _) => state);
        formatter.Write(entry, scopeProvider: null, writer);
        return writer.ToString();
    }

    private static InvalidOperationException Thrown(string message)
    {
        try
        {
            throw new InvalidOperationException(message);
        }
        catch (InvalidOperationException ex)
        {
            return ex;
        }
    }

    private sealed class FixedOptions(ConsoleLineFormatterOptions value) : IOptionsMonitor<ConsoleLineFormatterOptions>
    {
        public ConsoleLineFormatterOptions CurrentValue => value;

        public ConsoleLineFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ConsoleLineFormatterOptions, string?> listener) => null;
    }
}
