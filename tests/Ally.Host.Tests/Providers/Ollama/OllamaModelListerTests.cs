using Ally.Abstractions;
using Ally.Host.Tests.Fakes;

namespace Ally.Host.Tests.Providers.Ollama;

public sealed class OllamaModelListerTests
{
    [Fact]
    public async Task ListModelsAsync_Tags_ReturnsModelsInServerOrderWithDetails()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string tags = """
            {"models":[
              {"name":"qwen3:8b","model":"qwen3:8b","modified_at":"2025-05-10T08:06:48.639712648-07:00","size":4683075271,
               "digest":"0a8c","details":{"parent_model":"","format":"gguf","family":"qwen3","families":["qwen3"],"parameter_size":"8.2B","quantization_level":"Q4_K_M"}},
              {"name":"old-server:latest","modified_at":"2024-01-01T00:00:00Z","size":1}
            ]}
            """;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, tags), ct);
        using var client = OllamaWire.Client(server);

        // When
        var models = await client.ListModelsAsync(ct);

        // Then
        Assert.Equal(["qwen3:8b", "old-server:latest"], models.Select(m => m.Id));
        Assert.Equal("qwen3:8b (qwen3, 8.2B, Q4_K_M)", models[0].DisplayName);
        Assert.Equal("old-server:latest", models[1].DisplayName);
        Assert.Equal("GET", server.LastRequest.Method);
        Assert.Equal("/api/tags", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task ListModelsAsync_NoModelsPulled_ReturnsEmpty()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"models":[]}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var models = await client.ListModelsAsync(ct);

        // Then
        Assert.Empty(models);
    }

    [Fact]
    public async Task ListModelsAsync_ServerError_ThrowsClassified()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"error":"boom"}""", 500), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.ListModelsAsync(ct));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, error.Kind);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetVersionAsync_Version_ReturnsServerVersion()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"version":"0.12.6"}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var version = await client.GetVersionAsync(ct);

        // Then
        Assert.Equal("0.12.6", version);
        Assert.Equal("/api/version", server.LastRequest.PathAndQuery);
    }
}
