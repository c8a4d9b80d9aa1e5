using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere.Tests;

public sealed class CohereErrorTests
{
    [Theory]
    [InlineData(400, """{"id":"a1","message":"invalid request: message must be at least 1 token long or tool results must be specified."}""", ProviderErrorKind.InvalidRequest, "message must be at least 1 token")]
    [InlineData(400, """{"id":"a2","message":"too many tokens: total number of tokens in the prompt cannot exceed 128000 - received 131002. Try using a shorter prompt"}""", ProviderErrorKind.ContextLengthExceeded, "too many tokens")]
    [InlineData(401, """{"id":"a3","message":"invalid api token"}""", ProviderErrorKind.Authentication, "invalid api token")]
    [InlineData(402, """{"message":"Please add a payment method to continue."}""", ProviderErrorKind.QuotaExceeded, "add a payment method")]
    [InlineData(404, """{"id":"a4","message":"model 'command-z' not found, make sure the correct model ID was used and that you have access to the model."}""", ProviderErrorKind.NotFound, "model 'command-z' not found")]
    [InlineData(422, """{"message":"invalid type: parameter temperature is of type string but should be of type number."}""", ProviderErrorKind.InvalidRequest, "parameter temperature")]
    [InlineData(498, """{"message":"invalid api token"}""", ProviderErrorKind.Authentication, "invalid api token")]
    [InlineData(499, """{"message":"request cancelled by the user"}""", ProviderErrorKind.Network, "request cancelled")]
    [InlineData(500, """{"id":"a5","message":"internal server error, this has been reported to our developers. id a5"}""", ProviderErrorKind.ServerError, "internal server error")]
    [InlineData(503, """{"message":"service unavailable"}""", ProviderErrorKind.Overloaded, "service unavailable")]
    [InlineData(502, "<html><body>Bad gateway</body></html>", ProviderErrorKind.ServerError, "Bad gateway")]
    public async Task GetResponseAsync_ErrorStatus_IsClassified(int status, string body, ProviderErrorKind expected, string fragment)
    {
        // Given a server that fails with Cohere's error body
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, body, status), ct);
        using var client = CohereWire.Client(server);

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then the kind, status and provider's words are kept, and the key is nowhere
        Assert.Equal(expected, exception.Kind);
        Assert.Equal(status, exception.StatusCode);
        Assert.Equal("cohere", exception.Provider);
        Assert.Contains(fragment, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithRetryAfterSeconds_CarriesTheWait()
    {
        // Given a 429 with retry-after in seconds
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c =>
            {
                c.Response.Headers["retry-after"] = "7";
                return CohereWire.WriteJsonAsync(c, """{"id":"r1","message":"You are using a Trial key, which is limited to 10 API calls / minute."}""", 429);
            },
            ct);
        using var client = CohereWire.Client(server);

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then it is a rate limit with the wait
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal(TimeSpan.FromSeconds(7), exception.RetryAfter);
        Assert.Contains("Trial key", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.5", 1500)]
    [InlineData("Wed, 01 Jan 2025 00:00:30 GMT", 30_000)]
    public async Task GetResponseAsync_RateLimitWithOtherRetryAfterForms_CarriesTheWait(string header, int expectedMs)
    {
        // Given a 429 with a fractional or HTTP-date retry-after, and a clock at 2025-01-01T00:00:00Z
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c =>
            {
                c.Response.Headers["retry-after"] = header;
                return CohereWire.WriteJsonAsync(c, """{"message":"rate limited"}""", 429);
            },
            ct);
        using var client = new CohereChatClient(CohereWire.Settings(server.BaseAddress), CohereWire.ApiKey, "command-a-03-2025", new FixedTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)));

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then the wait is read
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitWithoutRetryAfter_HasNoWait()
    {
        // Given a real-looking 429 with no retry-after at all
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, """{"message":"too many requests"}""", 429), ct);
        using var client = CohereWire.Client(server);

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then it is a rate limit the router must pace itself
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Null(exception.RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_ServerEchoesTheKey_KeyIsRedacted()
    {
        // Given a server whose error message quotes the key back
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteJsonAsync(c, $$"""{"message":"invalid api token '{{CohereWire.ApiKey}}'"}""", 401),
            ct);
        using var client = CohereWire.Client(server);

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then the key never reaches the message
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
        Assert.Contains("[redacted]", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ServerTooSlow_ThrowsTimeout()
    {
        // Given a server that never answers and a short timeout
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => Task.Delay(Timeout.Infinite, c.RequestAborted), ct);
        using var client = CohereWire.Client(server, timeout: TimeSpan.FromMilliseconds(300));

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then the client's own timeout is a Timeout failure
        Assert.Equal(ProviderErrorKind.Timeout, exception.Kind);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_CallerCancels_PropagatesCancellation()
    {
        // Given a server that never answers
        await using var server = await LoopbackServer.StartAsync(c => Task.Delay(Timeout.Infinite, c.RequestAborted), TestContext.Current.CancellationToken);
        using var client = CohereWire.Client(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMilliseconds(200));

        // When the caller cancels
        // Then the cancellation propagates as such, not as a provider failure
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cts.Token));
    }

    [Fact]
    public async Task GetResponseAsync_NobodyListening_ThrowsNetwork()
    {
        // Given an address where a server was but no longer is
        var ct = TestContext.Current.CancellationToken;
        var server = await LoopbackServer.StartAsync(_ => Task.CompletedTask, ct);
        var address = server.BaseAddress;
        await server.DisposeAsync();
        using var client = new CoherePlugin().CreateClient(CohereWire.Settings(address));

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then it is a network failure
        Assert.Equal(ProviderErrorKind.Network, exception.Kind);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_SuccessWithNonJsonBody_ThrowsServerError()
    {
        // Given a 200 whose body is not JSON
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => c.Response.WriteAsync("<html>maintenance</html>", c.RequestAborted), ct);
        using var client = CohereWire.Client(server);

        // When the client calls
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then it is a server failure
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
