using System.Net;
using System.Net.Sockets;
using Ally.Abstractions;
using Ally.Host.Providers.Anthropic;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Anthropic;

public sealed class AnthropicErrorTests
{
    [Theory]
    [InlineData(400, "invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\"", ProviderErrorKind.InvalidRequest)]
    [InlineData(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum", ProviderErrorKind.ContextLengthExceeded)]
    [InlineData(400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.", ProviderErrorKind.QuotaExceeded)]
    [InlineData(401, "authentication_error", "invalid x-api-key", ProviderErrorKind.Authentication)]
    [InlineData(403, "permission_error", "Your API key does not have permission to use the specified resource.", ProviderErrorKind.Authentication)]
    [InlineData(404, "not_found_error", "model: claude-nonexistent", ProviderErrorKind.NotFound)]
    [InlineData(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", ProviderErrorKind.ContextLengthExceeded)]
    [InlineData(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", ProviderErrorKind.RateLimit)]
    [InlineData(500, "api_error", "Internal server error", ProviderErrorKind.ServerError)]
    [InlineData(529, "overloaded_error", "Overloaded", ProviderErrorKind.Overloaded)]
    public async Task GetResponseAsync_ErrorStatus_ClassifiedWithProviderMessageAndCode(int status, string type, string message, ProviderErrorKind expected)
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, status, AnthropicWire.Error(type, message)), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(expected, ex.Kind);
        Assert.Equal(status, ex.StatusCode);
        Assert.Equal(type, ex.ErrorCode);
        Assert.Equal(message, ex.Message);
        Assert.Equal("anthropic", ex.Provider);
        Assert.DoesNotContain(AnthropicWire.ApiKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithRetryAfterSeconds_ReportsWait()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(
                ctx,
                429,
                AnthropicWire.Error("rate_limit_error", "This request would exceed the rate limit for your organization"),
                ("retry-after", "17"),
                ("anthropic-ratelimit-requests-reset", "2030-01-01T00:00:00Z")),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, ex.Kind);
        Assert.Equal(TimeSpan.FromSeconds(17), ex.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithOnlyResetTimestamps_ReportsWaitUntilLatestReset()
    {
        // Given
        var now = new DateTimeOffset(2025, 10, 30, 16, 17, 30, TimeSpan.Zero);
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(
                ctx,
                429,
                AnthropicWire.Error("rate_limit_error", "Rate limited"),
                ("anthropic-ratelimit-requests-reset", "2025-10-30T16:17:35Z"),
                ("anthropic-ratelimit-tokens-reset", "2025-10-30T16:17:42Z"),
                ("anthropic-ratelimit-input-tokens-reset", "2025-10-30T16:17:37Z")),
            TestContext.Current.CancellationToken);
        var settings = new ProviderSettings { Name = "anthropic", Model = "claude-sonnet-4-5", BaseUrl = server.BaseAddress, ApiKey = AnthropicWire.ApiKey };
        using var client = new AnthropicChatClient(settings, new FakeTimeProvider(now));

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, ex.Kind);
        Assert.Equal(TimeSpan.FromSeconds(12), ex.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithoutAnyRetryHint_HasNoWait()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 429, AnthropicWire.Error("rate_limit_error", "Rate limited")), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, ex.Kind);
        Assert.Null(ex.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_NonJsonGatewayPage_ClassifiedByStatus()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async ctx =>
            {
                ctx.Response.StatusCode = 503;
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync("<html><body>503 Service Temporarily Unavailable</body></html>", ctx.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, ex.Kind);
        Assert.Contains("503", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ErrorBodyEchoingKey_KeyRedactedFromMessage()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(ctx, 401, AnthropicWire.Error("authentication_error", $"invalid x-api-key: {AnthropicWire.ApiKey}")),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, ex.Kind);
        Assert.DoesNotContain(AnthropicWire.ApiKey, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AnthropicWire.ApiKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ServerNeverAnswers_ThrowsTimeout()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async ctx => await Task.Delay(Timeout.Infinite, ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server, s => s with { Timeout = TimeSpan.FromMilliseconds(300) });

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, ex.Kind);
        Assert.DoesNotContain(AnthropicWire.ApiKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_HeadersNeverArrive_ThrowsTimeout()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async ctx => await Task.Delay(Timeout.Infinite, ctx.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server, s => s with { Timeout = TimeSpan.FromMilliseconds(300) });

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => AnthropicStreamingTests.CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, ex.Kind);
    }

    [Fact]
    public async Task GetResponseAsync_NothingListening_ThrowsNetwork()
    {
        // Given
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var settings = new ProviderSettings { Name = "anthropic", Model = "claude-sonnet-4-5", BaseUrl = new Uri($"http://127.0.0.1:{port}"), ApiKey = AnthropicWire.ApiKey };
        using var client = new AnthropicChatClient(settings);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Network, ex.Kind);
        Assert.DoesNotContain(AnthropicWire.ApiKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rate_limit_error", ProviderErrorKind.RateLimit)]
    [InlineData("api_error", ProviderErrorKind.ServerError)]
    [InlineData("invalid_request_error", ProviderErrorKind.InvalidRequest)]
    public async Task GetStreamingResponseAsync_InBandErrorTypesBeforeContent_ClassifiedByType(string type, ProviderErrorKind expected)
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.StartSse(ctx);
                await ctx.Response.WriteAsync(AnthropicWire.MessageStart() + AnthropicWire.Event("error", AnthropicWire.Error(type, "failed")), ctx.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => AnthropicStreamingTests.CollectAsync(client));

        // Then
        Assert.Equal(expected, ex.Kind);
        Assert.Equal(type, ex.ErrorCode);
    }

    [Fact]
    public async Task GetResponseAsync_EmptyConversation_ThrowsInvalidRequestWithoutCalling()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, "{}"), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.System, "only a system prompt")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.InvalidRequest, ex.Kind);
        Assert.Empty(server.Requests);
    }
}
