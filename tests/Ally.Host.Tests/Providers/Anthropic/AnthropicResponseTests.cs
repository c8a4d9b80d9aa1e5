using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Anthropic;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Anthropic;

public sealed class AnthropicResponseTests
{
    [Fact]
    public async Task GetResponseAsync_TextAnswer_ParsedWithIdsAndUsage()
    {
        // Given
        var body = AnthropicWire.Message("""[{"type":"text","text":"Hello there!"}]""", usage: """{"input_tokens":12,"output_tokens":29}""");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Hello there!", response.Text);
        Assert.Equal("msg_01A", response.ResponseId);
        Assert.Equal("msg_01A", response.Messages[0].MessageId);
        Assert.Equal(ChatRole.Assistant, response.Messages[0].Role);
        Assert.Equal("claude-sonnet-4-5-20250929", response.ModelId);
        Assert.NotNull(response.CreatedAt);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(12, response.Usage!.InputTokenCount);
        Assert.Equal(29, response.Usage.OutputTokenCount);
        Assert.Equal(41, response.Usage.TotalTokenCount);
        Assert.Equal(0, response.Usage.CachedInputTokenCount);
        Assert.IsType<JsonElement>(response.RawRepresentation);
    }

    [Fact]
    public async Task GetResponseAsync_CacheReadsAndWrites_CountedInInputOnceAndKeptApart()
    {
        // Given
        var body = AnthropicWire.Message(
            """[{"type":"text","text":"ok"}]""",
            usage: """{"input_tokens":20,"cache_creation_input_tokens":1000,"cache_read_input_tokens":3000,"output_tokens":7}""");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var usage = response.Usage!;
        Assert.Equal(4020, usage.InputTokenCount);
        Assert.Equal(3000, usage.CachedInputTokenCount);
        Assert.Equal(7, usage.OutputTokenCount);
        Assert.Equal(4027, usage.TotalTokenCount);
        Assert.Equal(1000, usage.AdditionalCounts![AnthropicUsage.CacheCreationKey]);
        Assert.Equal(20, usage.AdditionalCounts[AnthropicUsage.UncachedInputKey]);
    }

    [Fact]
    public async Task GetResponseAsync_ParallelToolUse_ParsedAsFunctionCalls()
    {
        // Given
        var body = AnthropicWire.Message(
            """
            [{"type":"text","text":"Checking."},
             {"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"city":"Paris"}},
             {"type":"tool_use","id":"toolu_01B","name":"get_weather","input":{"city":"Rome","days":3}}]
            """,
            stopReason: "tool_use");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal("Checking.", response.Text);
        var calls = response.Messages[0].Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("toolu_01A", calls[0].CallId);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("Paris", ((JsonElement)calls[0].Arguments!["city"]!).GetString());
        Assert.Equal(3, ((JsonElement)calls[1].Arguments!["days"]!).GetInt32());
    }

    [Fact]
    public async Task GetResponseAsync_ThinkingBlocks_KeptApartFromAnswerWithSignature()
    {
        // Given
        var body = AnthropicWire.Message(
            """
            [{"type":"thinking","thinking":"Let me add 2 and 2.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
             {"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
             {"type":"text","text":"4"}]
            """);
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "2+2?")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("4", response.Text);
        var reasoning = response.Messages[0].Contents.OfType<TextReasoningContent>().ToList();
        Assert.Equal("Let me add 2 and 2.", reasoning[0].Text);
        Assert.StartsWith("EqQB", reasoning[0].ProtectedData, StringComparison.Ordinal);
        Assert.Equal(string.Empty, reasoning[1].Text);
        Assert.StartsWith("EmwK", reasoning[1].ProtectedData, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ThinkingRoundTrip_SentBackAsThinkingAndRedactedBlocks()
    {
        // Given
        var body = AnthropicWire.Message(
            """
            [{"type":"thinking","thinking":"plan","signature":"sig-A"},
             {"type":"redacted_thinking","data":"opaque-B"},
             {"type":"tool_use","id":"toolu_1","name":"calc","input":{"x":1}}]
            """,
            stopReason: "tool_use");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);
        List<ChatMessage> history = [new(ChatRole.User, "compute")];
        var first = await client.GetResponseAsync(history, cancellationToken: TestContext.Current.CancellationToken);
        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("toolu_1", "1")]));

        // When
        await client.GetResponseAsync(history, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var assistant = AnthropicWire.Body(server.LastRequest).GetProperty("messages")[1].GetProperty("content");
        Assert.Equal(["thinking", "redacted_thinking", "tool_use"], assistant.EnumerateArray().Select(b => b.GetProperty("type").GetString()));
        Assert.Equal("sig-A", assistant[0].GetProperty("signature").GetString());
        Assert.Equal("opaque-B", assistant[1].GetProperty("data").GetString());
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    [InlineData("pause_turn", "stop")]
    public async Task GetResponseAsync_StopReasons_MappedAndRawKept(string stopReason, string expected)
    {
        // Given
        var body = AnthropicWire.Message("""[{"type":"text","text":"x"}]""", stopReason: stopReason);
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expected, response.FinishReason?.Value);
        Assert.Equal(stopReason, response.AdditionalProperties![AnthropicResponseParser.StopReasonKey]);
    }

    [Fact]
    public async Task GetResponseAsync_ErrorObjectInHttp200_ThrowsClassified()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(ctx, 200, AnthropicWire.Error("overloaded_error", "Overloaded")),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, ex.Kind);
        Assert.Equal("overloaded_error", ex.ErrorCode);
    }

    [Fact]
    public async Task ListModelsAsync_PagedList_FollowsLastIdUntilNoMore()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx =>
            {
                var afterId = ctx.Request.Query["after_id"].ToString();
                var page = afterId switch
                {
                    "" => """{"data":[{"type":"model","id":"claude-opus-4-1-20250805","display_name":"Claude Opus 4.1","created_at":"2025-08-05T00:00:00Z"},{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":true,"first_id":"claude-opus-4-1-20250805","last_id":"claude-sonnet-4-5-20250929"}""",
                    "claude-sonnet-4-5-20250929" => """{"data":[{"type":"model","id":"claude-3-haiku-20240307","display_name":"Claude Haiku 3","created_at":"2024-03-07T00:00:00Z"}],"has_more":false,"first_id":"claude-3-haiku-20240307","last_id":"claude-3-haiku-20240307"}""",
                    _ => """{"data":[],"has_more":false,"first_id":null,"last_id":null}""",
                };
                return AnthropicWire.WriteJsonAsync(ctx, 200, page);
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var models = await ((IModelLister)client.GetService(typeof(IModelLister))!).ListModelsAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(["claude-opus-4-1-20250805", "claude-sonnet-4-5-20250929", "claude-3-haiku-20240307"], models.Select(m => m.Id));
        Assert.Equal("Claude Sonnet 4.5", models[1].DisplayName);
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal("GET", requests[0].Method);
        Assert.StartsWith("/v1/models", requests[0].PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("after_id=claude-sonnet-4-5-20250929", requests[1].PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(AnthropicWire.ApiKey, requests[0].Headers["x-api-key"]);
        Assert.Equal("2023-06-01", requests[0].Headers["anthropic-version"]);
    }

    [Fact]
    public async Task ListModelsAsync_CursorThatDoesNotMove_StopsInsteadOfLooping()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(ctx, 200, """{"data":[{"type":"model","id":"m1"}],"has_more":true,"last_id":"m1"}"""),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var models = await client.ListModelsAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(2, models.Count);
    }

    [Fact]
    public async Task ListModelsAsync_BadKey_ThrowsAuthentication()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(ctx, 401, AnthropicWire.Error("authentication_error", "invalid x-api-key")),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => client.ListModelsAsync(TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ProviderErrorKind.Authentication, ex.Kind);
    }

    [Fact]
    public async Task GetService_Metadata_DescribesProvider()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(_ => Task.CompletedTask, TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var metadata = (ChatClientMetadata?)client.GetService(typeof(ChatClientMetadata));

        // Then
        Assert.NotNull(metadata);
        Assert.Equal("anthropic", metadata.ProviderName);
        Assert.Equal("claude-sonnet-4-5", metadata.DefaultModelId);
        Assert.Same(client, client.GetService(typeof(IModelLister)));
        Assert.Same(client, client.GetService(typeof(IChatClient)));
        Assert.Null(client.GetService(typeof(string)));
    }
}
