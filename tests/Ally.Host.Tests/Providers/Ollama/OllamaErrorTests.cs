using System.Net;
using System.Net.Sockets;
using Ally.Abstractions;
using Ally.Host.Providers.Ollama;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Ollama;

public sealed class OllamaErrorTests
{
    [Theory]
    [InlineData(404, """{"error":"model \"llama9\" not found, try pulling it first"}""", ProviderErrorKind.NotFound)]
    [InlineData(404, """{"error":"model 'llama9' not found"}""", ProviderErrorKind.NotFound)]
    [InlineData(404, "404 page not found", ProviderErrorKind.NotFound)]
    [InlineData(400, """{"error":"\"bert\" does not support chat"}""", ProviderErrorKind.InvalidRequest)]
    [InlineData(400, """{"error":"invalid options: num_predict"}""", ProviderErrorKind.InvalidRequest)]
    [InlineData(401, """{"error":"unauthorized"}""", ProviderErrorKind.Authentication)]
    [InlineData(403, """{"error":"forbidden"}""", ProviderErrorKind.Authentication)]
    [InlineData(500, """{"error":"llama runner process has terminated: signal: killed"}""", ProviderErrorKind.ServerError)]
    [InlineData(502, "<html>Bad Gateway</html>", ProviderErrorKind.ServerError)]
    [InlineData(503, """{"error":"server busy, please try again.  maximum pending requests exceeded"}""", ProviderErrorKind.Overloaded)]
    [InlineData(400, """{"error":"the input length exceeds the context length"}""", ProviderErrorKind.ContextLengthExceeded)]
    public async Task GetResponseAsync_ErrorStatus_IsClassifiedByStatusCode(int status, string body, ProviderErrorKind expected)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, body, status), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(expected, error.Kind);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal("ollama", error.Provider);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ModelNotFound_KeepsOllamaWordsAndSuggestsPull()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"error":"model \"llama9\" not found, try pulling it first"}""", 404), ct);
        using var client = OllamaWire.Client(server, model: "llama9");

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Contains("model \"llama9\" not found, try pulling it first", error.Message, StringComparison.Ordinal);
        Assert.Contains("ollama pull", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_429WithRetryAfterSeconds_IsRateLimitWithWait()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context =>
        {
            context.Response.Headers["Retry-After"] = "7";
            return OllamaWire.JsonAsync(context, """{"error":"rate limit exceeded"}""", 429);
        }, ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, error.Kind);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.Contains("rate limit exceeded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_429WithRetryAfterDate_IsRateLimitWithWait()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context =>
        {
            context.Response.Headers["Retry-After"] = TimeProvider.System.GetUtcNow().AddMinutes(2).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            return OllamaWire.JsonAsync(context, """{"error":"rate limit exceeded"}""", 429);
        }, ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, error.Kind);
        Assert.InRange(error.RetryAfter!.Value, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task GetResponseAsync_429WithRetryAfterMs_IsRateLimitWithWait()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context =>
        {
            context.Response.Headers["retry-after-ms"] = "1500";
            return OllamaWire.JsonAsync(context, """{"error":"rate limit exceeded"}""", 429);
        }, ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(TimeSpan.FromMilliseconds(1500), error.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_429WithoutRetryAfter_IsRateLimitWithoutWait()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"error":"rate limit exceeded"}""", 429), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, error.Kind);
        Assert.Null(error.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_ErrorObjectWithStatus200_ThrowsServerError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"error":"the model failed to generate a response"}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, error.Kind);
        Assert.Contains("the model failed to generate a response", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_BodyNotJson_ThrowsServerError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, "<html>hello</html>"), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, error.Kind);
    }

    [Fact]
    public async Task GetResponseAsync_ConnectionRefused_ThrowsNetworkNamingUrlAndRemedy()
    {
        // Given: a port nobody listens on.
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        using var client = new OllamaChatClient(new ProviderSettings { Name = "ollama", Model = "llama3.1", BaseUrl = baseUrl });

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Network, error.Kind);
        Assert.Contains($"Ollama is not reachable at http://127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("ollama serve", error.Message, StringComparison.Ordinal);
        Assert.Contains("OLLAMA_HOST", error.Message, StringComparison.Ordinal);
        Assert.Null(error.StatusCode);
    }

    [Fact]
    public async Task ListModelsAsync_ConnectionRefused_ThrowsNetwork()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new OllamaChatClient(new ProviderSettings { Name = "ollama", Model = "m", BaseUrl = new Uri($"http://127.0.0.1:{port}") });

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.ListModelsAsync(ct));

        // Then
        Assert.Equal(ProviderErrorKind.Network, error.Kind);
        Assert.Contains("ollama serve", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_SlowerThanTimeout_ThrowsTimeout()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted), ct);
        using var client = OllamaWire.Client(server, timeout: TimeSpan.FromMilliseconds(200));

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, error.Kind);
    }

    [Fact]
    public async Task GetResponseAsync_CallerCancels_PropagatesCancellationNotTimeout()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            received.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }, ct);
        using var client = OllamaWire.Client(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // When
        var call = client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: cts.Token);
        await received.Task.WaitAsync(ct);
        await cts.CancelAsync();
        var error = await Record.ExceptionAsync(() => call);

        // Then
        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task GetResponseAsync_ServerEchoesKey_KeyNeverInExceptionText()
    {
        // Given: a misbehaving proxy that echoes the Authorization header in its error.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            context => OllamaWire.JsonAsync(context, $$"""{"error":"bad header {{context.Request.Headers.Authorization}}"}""", 401),
            ct);
        using var client = OllamaWire.Client(server, apiKey: OllamaWire.Key);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, error.Kind);
        Assert.DoesNotContain(OllamaWire.Key, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OllamaWire.Key, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(OllamaWire.Key, server.LastRequest.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorLineEchoingKey_KeyNeverInExceptionText()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            context => OllamaWire.NdjsonAsync(context, OllamaWire.Chunk("a"), $$"""{"error":"proxy saw {{context.Request.Headers.Authorization}}"}"""),
            ct);
        using var client = OllamaWire.Client(server, apiKey: OllamaWire.Key);

        // When
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct))
            {
            }
        });

        // Then
        var providerError = Assert.IsType<ProviderException>(error);
        Assert.Equal(ProviderErrorKind.TruncatedStream, providerError.Kind);
        Assert.DoesNotContain(OllamaWire.Key, providerError.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ConnectionRefusedWithKeyAndUserInfo_KeyNotInMessage()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new OllamaChatClient(new ProviderSettings
        {
            Name = "ollama",
            Model = "m",
            ApiKey = OllamaWire.Key,
            BaseUrl = new Uri($"http://user:{OllamaWire.Key}@127.0.0.1:{port}/"),
        });

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.Network, error.Kind);
        Assert.DoesNotContain(OllamaWire.Key, error.ToString(), StringComparison.Ordinal);
    }
}
