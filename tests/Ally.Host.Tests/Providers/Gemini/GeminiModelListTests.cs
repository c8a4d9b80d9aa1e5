using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Providers.Gemini;

public sealed class GeminiModelListTests
{
    private const string FirstPage = """
        {
          "models": [
            {"name": "models/embedding-001", "displayName": "Embedding 001", "inputTokenLimit": 2048, "outputTokenLimit": 1, "supportedGenerationMethods": ["embedContent"]},
            {"name": "models/gemini-2.5-pro", "displayName": "Gemini 2.5 Pro", "inputTokenLimit": 1048576, "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent", "countTokens"]}
          ],
          "nextPageToken": "page-2"
        }
        """;

    private const string SecondPage = """
        {"models": [{"name": "models/gemini-2.5-flash", "inputTokenLimit": 1048576, "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent"]}]}
        """;

    [Fact]
    public async Task ListModelsAsync_TwoPages_FollowsTokenAndKeepsOnlyGenerateContentModels()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(context.Request.Query.ContainsKey("pageToken") ? SecondPage : FirstPage, context.RequestAborted);
            },
            ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var models = await client.ListModelsAsync(ct);

        // Then
        Assert.Equal(["gemini-2.5-pro", "gemini-2.5-flash"], models.Select(m => m.Id));
        Assert.Equal("Gemini 2.5 Pro", models[0].DisplayName);
        Assert.Equal(1048576, models[0].ContextWindow);
        Assert.Equal(65536, models[0].MaxOutputTokens);
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal("GET", r.Method));
        Assert.StartsWith("/v1beta/models?", requests[0].PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain("pageToken", requests[0].PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("pageToken=page-2", requests[1].PathAndQuery, StringComparison.Ordinal);
        Assert.All(requests, r => Assert.Equal(GeminiWire.ApiKey, r.Headers["x-goog-api-key"]));
        Assert.All(requests, r => Assert.DoesNotContain(GeminiWire.ApiKey, r.PathAndQuery, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListModelsAsync_ServerRepeatsToken_StopsInsteadOfLoopingForever()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(FirstPage, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var models = await client.ListModelsAsync(ct);

        // Then
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(2, models.Count);
    }

    [Fact]
    public async Task ListModelsAsync_PermissionDenied_ThrowsAuthentication()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(403, "PERMISSION_DENIED", "Generative Language API has not been used in project 1."), 403, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.ListModelsAsync(ct));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
    }
}
