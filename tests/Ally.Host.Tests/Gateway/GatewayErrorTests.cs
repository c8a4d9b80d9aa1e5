using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Usage;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

public sealed class GatewayErrorTests
{
    public static TheoryData<ProviderErrorKind, string?, int, string> Kinds => new()
    {
        { ProviderErrorKind.Authentication, null, 401, "provider_auth_failed" },
        { ProviderErrorKind.InvalidRequest, null, 400, "invalid_request" },
        { ProviderErrorKind.NotFound, null, 404, "model_not_found" },
        { ProviderErrorKind.ContextLengthExceeded, null, 400, "context_length_exceeded" },
        { ProviderErrorKind.ContentFilter, null, 400, "content_filter" },
        { ProviderErrorKind.RateLimit, null, 429, "rate_limit_exceeded" },
        { ProviderErrorKind.QuotaExceeded, null, 429, "insufficient_quota" },
        { ProviderErrorKind.Overloaded, null, 503, "overloaded" },
        { ProviderErrorKind.ServerError, null, 502, "upstream_error" },
        { ProviderErrorKind.Network, null, 502, "upstream_unreachable" },
        { ProviderErrorKind.Timeout, null, 504, "upstream_timeout" },
        { ProviderErrorKind.TruncatedStream, null, 502, "stream_truncated" },
        { ProviderErrorKind.Unknown, null, 502, "upstream_error" },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void FromProvider_EveryKind_MapsToOpenAIStatusAndCode(ProviderErrorKind kind, string? code, int status, string expectedCode)
    {
        // Given
        var exception = new ProviderException(kind, "went wrong with sk-secret-0123456789", "groq") { ErrorCode = code };

        // When
        var error = GatewayErrors.FromProvider(exception, new SecretRedactor(["sk-secret-0123456789"]));

        // Then
        Assert.Equal(status, error.Status);
        Assert.Equal(expectedCode, error.Code);
        Assert.StartsWith("groq: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBudget_Refusal_Is402BudgetExceeded()
    {
        // Given
        var exception = new BudgetExceededException("budget.daily_usd", 1m, 0.99m, 0.05m, "oai/gpt-4o-mini");

        // When
        var error = GatewayErrors.FromBudget(exception, SecretRedactor.None);

        // Then
        Assert.Equal(402, error.Status);
        Assert.Equal("budget_exceeded", error.Code);
        Assert.Contains("budget.daily_usd", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_ProviderRateLimited_Is429WithRetryAfterSeconds()
    {
        // Given a provider that answers 429 with retry-after
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                context.Response.Headers["retry-after"] = "7";
                await FakeUpstreams.JsonAsync(context, """{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}}""", 429);
            },
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        var failure = await Assert.ThrowsAsync<ClientResultException>(() =>
            gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(429, failure.Status);
        var raw = failure.GetRawResponse()!;
        Assert.True(raw.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.Equal("7", retryAfter);
        var error = JsonDocument.Parse(raw.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Contains("Rate limit reached", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_ProviderEchoesItsKey_KeyNeverReachesTheClient()
    {
        // Given a provider whose 401 message quotes the key it received, and headers that carry it too
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                var key = context.Request.Headers.Authorization.ToString()["Bearer ".Length..];
                context.Response.Headers["x-echo-key"] = key;
                await FakeUpstreams.JsonAsync(context, $$$"""{"error":{"message":"Incorrect API key provided: {{{key}}}.","type":"invalid_request_error","code":"invalid_api_key"}}""", 401);
            },
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        using var response = await gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent("""{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        // Then the provider did get the key, but neither the body nor any header the client sees contains it
        Assert.Equal("Bearer " + TestGateway.ProviderKeys["FAKE_OPENAI_KEY"], gateway.Upstream().LastRequest.Headers["Authorization"]);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Incorrect API key provided: ***", body, StringComparison.Ordinal);
        TestGateway.AssertNoProviderKey(body);
        TestGateway.AssertNoProviderKey(string.Join('\n', response.Headers.Concat(response.Content.Headers).Select(h => h.Key + ": " + string.Join(',', h.Value))));
    }

    [Fact]
    public async Task CompleteChat_ContextTooLong_Is400ContextLengthExceeded()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(
            context => FakeUpstreams.JsonAsync(context, """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""", 400),
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        var failure = await Assert.ThrowsAsync<ClientResultException>(() =>
            gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(400, failure.Status);
        var error = JsonDocument.Parse(failure.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task CompleteChat_ProviderDown_Is502AndRecorded()
    {
        // Given a provider whose server is gone
        var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);
        await using (gateway)
        {
            await gateway.Upstream().DisposeAsync();

            // When
            var failure = await Assert.ThrowsAsync<ClientResultException>(() =>
                gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));

            // Then
            Assert.Equal(502, failure.Status);
            Assert.Equal("1", failure.GetRawResponse()!.Headers.TryGetValue(ChatCompletionsEndpoint.AttemptsHeader, out var attempts) ? attempts : null);
            var record = Assert.Single(await gateway.RecordsAsync(TestContext.Current.CancellationToken));
            Assert.Equal("network", record.Outcome);
            Assert.Equal("gateway", record.Role);
        }
    }
}
