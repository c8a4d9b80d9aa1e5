using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Tests.Gateway;

public sealed class GatewayLoggingTests
{
    // Recorded for BeginScope calls, which have no level of their own.
    private const LogLevel ScopeEntry = (LogLevel)(-1);

    [Fact]
    public async Task ChatCompletions_FrameworkEntriesBelowWarning_AreNotLoggedButTheGatewaysFailuresAre()
    {
        // Given a logger factory that takes everything, as `ally serve`'s file log takes Debug
        var entries = new ConcurrentQueue<(string Category, LogLevel Level)>();
        using var loggers = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new RecordingProvider(entries)));
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                if ((await FakeUpstreams.BodyAsync(context)).Contains("fail", StringComparison.Ordinal))
                {
                    await FakeUpstreams.JsonAsync(context, """{"error":{"message":"Invalid value for 'messages'","type":"invalid_request_error"}}""", 400);
                    return;
                }

                await FakeUpstreams.OpenAI()(context);
            },
            cancellationToken: TestContext.Current.CancellationToken,
            loggerFactory: loggers);
        const string Body = """{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""";

        // When a call succeeds, and one fails at a provider that refuses it
        using var ok = await gateway.Http.PostAsync("v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        using var refused = await gateway.Http.PostAsync("v1/chat/completions", new StringContent(Body.Replace("Hi", "fail", StringComparison.Ordinal), Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        // Then ASP.NET Core's per-request entries (request starting and finished, endpoint matched, connection
        // started) and hosting's per-request log scope are gone, while the gateway's own warning about the failure is there
        Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.DoesNotContain(entries, e => e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) && e.Level < LogLevel.Warning);
        Assert.DoesNotContain(entries, e => e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) && e.Level == ScopeEntry);
        Assert.Contains(entries, e => e.Category == typeof(Host.Gateway.ChatCompletionsEndpoint).FullName && e.Level == LogLevel.Warning);
    }

    private sealed class RecordingProvider(ConcurrentQueue<(string Category, LogLevel Level)> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new RecordingLogger(categoryName, entries);

        public void Dispose()
        {
        }
    }

    private sealed class RecordingLogger(string category, ConcurrentQueue<(string Category, LogLevel Level)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            entries.Enqueue((category, ScopeEntry));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((category, logLevel));
    }
}
