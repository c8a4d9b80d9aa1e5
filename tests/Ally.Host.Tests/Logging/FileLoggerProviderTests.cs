using Ally.Host.Configuration;
using Ally.Host.Logging;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Tests.Logging;

public sealed class FileLoggerProviderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Log_WritesADailyPrivateFile_WithoutSecretsOrBelowTheMinimum()
    {
        // Given
        const string Key = "sk-log-0123456789abcdef";
        var logs = _folder.Combine("data", "logs");
        using var provider = new FileLoggerProvider(logs, new FixedTime(), LogLevel.Debug) { Redact = new SecretRedactor([Key]).Redact };
        var logger = provider.CreateLogger("Ally.Test");

        // When
#pragma warning disable CA1848, CA2254 // a test of the sink, not of message templates
        logger.LogTrace("prompt text");
        logger.LogError(new InvalidOperationException($"bad key {Key}"), "call failed");
#pragma warning restore CA1848, CA2254

        // Then
        var path = Path.Combine(logs, "ally-20250314.log");
        Assert.Equal(path, provider.CurrentPath);
        var text = File.ReadAllText(path);
        Assert.Contains("ERROR Ally.Test: call failed", text, StringComparison.Ordinal);
        Assert.Contains("bad key ***", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
        Assert.DoesNotContain("prompt text", text, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder.Combine("data")));
        }
    }

    [Fact]
    public void DataDirectory_FollowsAllyHomeThenXdgThenHome()
    {
        // When / Then
        Assert.Equal("/a/home", AllyPaths.DataDirectory(n => n == "ALLY_HOME" ? "/a/home" : null));
        Assert.Equal("/xdg/ally", AllyPaths.DataDirectory(n => n switch { "XDG_DATA_HOME" => "/xdg", "HOME" => "/h", _ => null }));
        Assert.Equal("/h/.local/share/ally", AllyPaths.DataDirectory(n => n == "HOME" ? "/h" : null));
    }

    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2025, 3, 14, 9, 26, 53, TimeSpan.Zero);
    }
}
