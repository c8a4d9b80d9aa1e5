using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.OpenAI;

public sealed class OpenAIChatClientErrorTests
{
    [Theory]
    [InlineData(401, "invalid_api_key", ProviderErrorKind.Authentication)]
    [InlineData(403, "unsupported_country_region_territory", ProviderErrorKind.Authentication)]
    [InlineData(404, "model_not_found", ProviderErrorKind.NotFound)]
    [InlineData(400, "invalid_function_parameters", ProviderErrorKind.InvalidRequest)]
    [InlineData(400, "context_length_exceeded", ProviderErrorKind.ContextLengthExceeded)]
    [InlineData(400, "content_filter", ProviderErrorKind.ContentFilter)]
    [InlineData(429, "insufficient_quota", ProviderErrorKind.QuotaExceeded)]
    [InlineData(429, "rate_limit_exceeded", ProviderErrorKind.RateLimit)]
    [InlineData(500, "server_error", ProviderErrorKind.ServerError)]
    [InlineData(503, null, ProviderErrorKind.Overloaded)]
    [InlineData(529, null, ProviderErrorKind.Overloaded)]
    public async Task GetResponseAsync_ErrorStatusAndCode_IsClassified(int status, string? code, ProviderErrorKind expected)
    {
        // Given a pretty-printed error body whose type says nothing useful
        var codeJson = code is null ? "null" : $"\"{code}\"";
        var body = $$"""
            {
              "error": {
                "message": "Something about {{code}}.",
                "type": "invalid_request_error",
                "param": null,
                "code": {{codeJson}}
              }
            }
            """;
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body, status), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(expected, exception.Kind);
        Assert.Equal(status, exception.StatusCode);
        Assert.Equal(code, exception.ErrorCode);
        Assert.Equal("openai", exception.Provider);
        Assert.Equal($"Something about {code}.", exception.Message);
    }

    [Fact]
    public async Task GetResponseAsync_ContextLengthByMessageOnly_IsContextLengthExceeded()
    {
        // Given
        const string Body = """{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":null}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body, 400), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.ContextLengthExceeded, exception.Kind);
    }

    [Theory]
    [InlineData("retry-after", "7", 7_000)]
    [InlineData("retry-after-ms", "1500", 1_500)]
    [InlineData("x-ratelimit-reset-requests", "6m0s", 360_000)]
    [InlineData("x-ratelimit-reset-tokens", "2ms", 2)]
    public async Task GetResponseAsync_RateLimitHeader_SetsRetryAfter(string header, string value, int expectedMs)
    {
        // Given
        const string Body = """{"error":{"message":"Rate limit reached.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body, 429, (header, value)), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWaitOnlyInMessage_ReadsItFromTheMessage()
    {
        // Given a real 429 with no retry headers at all and a wait of days in the text
        const string Body = """
            {
                "error": {
                    "message": "Rate limit reached for gpt-4 in organization org-x on tokens per day (TPD): Limit 10000, Used 9999. Please try again in 114h18m0s. Visit https://platform.openai.com/account/rate-limits to learn more.",
                    "type": "tokens",
                    "param": null,
                    "code": "rate_limit_exceeded"
                }
            }
            """;
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body, 429), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then the wait is reported as the provider said it; the router caps how long it will wait
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal(new TimeSpan(114, 18, 0), exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithoutAnyHint_HasNoRetryAfter()
    {
        // Given
        const string Body = """{"error":{"message":"Too many requests.","type":"requests","param":null,"code":null}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body, 429), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Null(exception.RetryAfter);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorStatus_ThrowsBeforeAnyUpdate()
    {
        // Given
        const string Body = """{"error":{"message":"The server is overloaded.","type":"server_error","param":null,"code":null}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body, 503, ("retry-after", "3")), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
            {
                Assert.Fail("No update expected.");
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, exception.Kind);
        Assert.Equal(TimeSpan.FromSeconds(3), exception.RetryAfter);
        Assert.Equal("The server is overloaded.", exception.Message);
    }

    [Fact]
    public async Task GetResponseAsync_NonJsonErrorBody_UsesStatusAndSnippet()
    {
        // Given a proxy's HTML page
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                c.Response.StatusCode = 502;
                c.Response.ContentType = "text/html";
                await c.Response.WriteAsync("<html>Bad gateway</html>", c.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
        Assert.Contains("502", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Bad gateway", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_SuccessStatusWithPageNotJson_IsServerErrorNamingTheProvider()
    {
        // Given a captive portal or misrouted proxy answering 200 with a page
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                c.Response.ContentType = "text/html";
                await c.Response.WriteAsync("<html>Sign in to continue</html>", c.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
        Assert.Contains("not JSON", exception.Message, StringComparison.Ordinal);
        Assert.Contains(exception.Provider!, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_KeyEchoedByServer_NeverAppearsInException()
    {
        // Given a server that echoes the key, plainly and masked as OpenAI does
        var body = """{"error":{"message":"Incorrect API key provided: """ + OpenAIWire.ApiKey + """. Also sk-test-**********cdef.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body, 401), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
        Assert.DoesNotContain(OpenAIWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cdef", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OpenAIWire.ApiKey, server.LastRequest.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ServerTooSlow_ThrowsTimeout()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            c => Task.Delay(Timeout.Infinite, c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default),
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Timeout = TimeSpan.FromMilliseconds(300) });

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, exception.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_HeadersTooSlow_ThrowsTimeout()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            c => Task.Delay(Timeout.Infinite, c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default),
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Timeout = TimeSpan.FromMilliseconds(300) });

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
            {
                _ = update;
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, exception.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SlowStreamAfterHeaders_IsNotCutByTheHeaderTimeout()
    {
        // Given headers at once, then the answer after longer than the timeout
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                c.Response.ContentType = "text/event-stream";
                await c.Response.Body.FlushAsync(c.RequestAborted);
                await Task.Delay(700, c.RequestAborted);
                await LoopbackServer.WritePiecesAsync(c, OpenAIWire.Sse(OpenAIWire.Chunk("""{"content":"late"}""", "stop")));
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Timeout = TimeSpan.FromMilliseconds(300) });

        // When
        var text = string.Empty;
        await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
        {
            text += update.Text;
        }

        // Then
        Assert.Equal("late", text);
    }

    [Fact]
    public async Task GetResponseAsync_NothingListening_ThrowsNetwork()
    {
        // Given a port with no server
        Uri address;
        await using (var server = await LoopbackServer.StartAsync(_ => Task.CompletedTask, TestContext.Current.CancellationToken))
        {
            address = server.BaseAddress;
        }

        using var client = new Ally.Host.Providers.OpenAI.OpenAIChatClient(
            new ProviderSettings { Name = "openai", BaseUrl = new Uri(address, "v1"), ApiKey = OpenAIWire.ApiKey, Model = "m" },
            azure: false);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Network, exception.Kind);
        Assert.DoesNotContain(OpenAIWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ErrorInsideHttp200Body_IsClassified()
    {
        // Given
        const string Body = """{"error":{"message":"Provider returned error","code":429}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "openrouter" });

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal("openrouter", exception.Provider);
    }
}
