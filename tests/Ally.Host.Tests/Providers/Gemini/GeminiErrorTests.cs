using System.Net;
using System.Net.Sockets;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Gemini;

public sealed class GeminiErrorTests
{
    private const string ApiKeyInvalid = """
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"},
        {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "Invalid API key: AIzaTestKey-0123456789"}
        """;

    private const string RetryInfo = """{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"}""";

    public static TheoryData<int, string, string, string, ProviderErrorKind> Errors => new()
    {
        { 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", ApiKeyInvalid, ProviderErrorKind.Authentication },
        { 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", string.Empty, ProviderErrorKind.Authentication },
        { 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.", string.Empty, ProviderErrorKind.Authentication },
        { 404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta.", string.Empty, ProviderErrorKind.NotFound },
        { 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", string.Empty, ProviderErrorKind.RateLimit },
        { 400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", string.Empty, ProviderErrorKind.ContextLengthExceeded },
        { 400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"foo\": Cannot find field.", string.Empty, ProviderErrorKind.InvalidRequest },
        { 500, "INTERNAL", "An internal error has occurred.", string.Empty, ProviderErrorKind.ServerError },
        { 503, "UNAVAILABLE", "The model is overloaded. Please try again later.", string.Empty, ProviderErrorKind.Overloaded },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task GetResponseAsync_ErrorStatus_ClassifiesWithProviderMessage(int status, string statusName, string message, string details, ProviderErrorKind expected)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(status, statusName, message, details), status, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(expected, exception.Kind);
        Assert.Equal(message, exception.Message);
        Assert.Equal(status, exception.StatusCode);
        Assert.Equal("gemini", exception.Provider);
        Assert.NotNull(exception.ErrorCode);
    }

    [Fact]
    public async Task GetResponseAsync_BadKey_NeverShowsTheKeyAnywhere()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", ApiKeyInvalid), 400, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
        Assert.Equal("API_KEY_INVALID", exception.ErrorCode);
        Assert.DoesNotContain(GeminiWire.ApiKey, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GeminiWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(GeminiWire.ApiKey, server.LastRequest.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ServerEchoesKeyInMessage_KeyIsScrubbed()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(400, "INVALID_ARGUMENT", $"Bad key {GeminiWire.ApiKey}."), 400, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.DoesNotContain(GeminiWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithRetryInfo_SetsRetryAfterFromBody()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", RetryInfo), 429, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal(TimeSpan.FromSeconds(26), exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithRetryAfterHeader_SetsRetryAfter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(
            GeminiWire.Error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted."),
            429,
            ct,
            response => response.Headers["Retry-After"] = "12");
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(TimeSpan.FromSeconds(12), exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithDelayInMessage_SetsRetryAfter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(429, "RESOURCE_EXHAUSTED", "Quota exceeded. Please retry in 26.5s."), 429, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(TimeSpan.FromSeconds(26.5), exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithoutAnyDelay_LeavesRetryAfterEmpty()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted."), 429, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Null(exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_HtmlGatewayError_ThrowsServerError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.StatusCode = 502;
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<html><body>Bad Gateway</body></html>", context.RequestAborted);
            },
            ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
        Assert.Equal(502, exception.StatusCode);
        Assert.Contains("Bad Gateway", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ServerTooSlow_ThrowsTimeout()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted), ct);
        using var client = GeminiWire.NewClient(server, timeout: TimeSpan.FromMilliseconds(300));

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, exception.Kind);
    }

    [Fact]
    public async Task GetResponseAsync_CallerCancels_PropagatesOperationCanceled()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                received.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            },
            ct);
        using var client = GeminiWire.NewClient(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // When
        var call = client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cts.Token);
        await received.Task.WaitAsync(TimeSpan.FromSeconds(20), ct);
        await cts.CancelAsync();

        // Then
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task GetResponseAsync_NothingListening_ThrowsNetworkWithoutKey()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new Ally.Host.Providers.Gemini.GeminiChatClient(new ProviderSettings
        {
            Name = "gemini",
            BaseUrl = new Uri($"http://127.0.0.1:{port}/"),
            Model = "gemini-2.0-flash",
            ApiKey = GeminiWire.ApiKey,
        });

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Network, exception.Kind);
        Assert.DoesNotContain(GeminiWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }
}
