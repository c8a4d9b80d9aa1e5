using Ally.Abstractions;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Providers.OpenAI;

public sealed class OpenAIModelListTests
{
    private const string List = """
        {
          "object": "list",
          "data": [
            {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
            {"id": "gpt-4", "object": "model", "created": 1687882411, "owned_by": "openai"}
          ]
        }
        """;

    [Fact]
    public async Task ListModelsAsync_OpenAIList_ReturnsModelsInOrder()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, List), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var models = await client.ListModelsAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(["gpt-4o-mini", "gpt-4"], models.Select(m => m.Id));
        Assert.Equal("system", models[0].OwnedBy);
        Assert.Equal("GET", server.LastRequest.Method);
        Assert.Equal("/v1/models", server.LastRequest.PathAndQuery);
        Assert.Equal($"Bearer {OpenAIWire.ApiKey}", server.LastRequest.Headers["Authorization"]);
    }

    [Fact]
    public async Task ListModelsAsync_BareArray_IsAccepted()
    {
        // Given Together's shape
        await using var server = await LoopbackServer.StartAsync(
            c => OpenAIWire.WriteJsonAsync(c, """[{"id":"meta-llama/Llama-3-8b","display_name":"Llama 3 8B","context_length":8192}]"""),
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "together" });

        // When
        var model = Assert.Single(await client.ListModelsAsync(TestContext.Current.CancellationToken));

        // Then
        Assert.Equal("meta-llama/Llama-3-8b", model.Id);
        Assert.Equal("Llama 3 8B", model.DisplayName);
        Assert.Equal(8192, model.ContextWindow);
    }

    [Fact]
    public async Task ListModelsAsync_Azure_UsesOpenAIPathApiVersionAndApiKey()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, List), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, azure: true);

        // When
        var models = await client.ListModelsAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, models.Count);
        Assert.Equal("/openai/models?api-version=2024-10-21", server.LastRequest.PathAndQuery);
        Assert.Equal(OpenAIWire.ApiKey, server.LastRequest.Headers["api-key"]);
        Assert.False(server.LastRequest.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task ListModelsAsync_BadKey_ThrowsAuthentication()
    {
        // Given
        const string Body = """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""";
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, Body, 401), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.ListModelsAsync(TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
    }
}
