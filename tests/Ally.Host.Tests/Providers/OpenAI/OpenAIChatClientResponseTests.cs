using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.OpenAI;

public sealed class OpenAIChatClientResponseTests
{
    [Fact]
    public async Task GetResponseAsync_TextAnswer_ReturnsTextIdsModelAndUsage()
    {
        // Given
        var body = OpenAIWire.Completion(
            """{"role":"assistant","content":"Hello there","refusal":null,"annotations":[]}""",
            usage: """{"prompt_tokens":108,"completion_tokens":10,"total_tokens":118,"prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":4}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Hello there", response.Text);
        Assert.Equal("chatcmpl-abc", response.ResponseId);
        Assert.Equal("gpt-4o-mini-2024-07-18", response.ModelId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1758038959), response.CreatedAt);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        Assert.NotNull(response.RawRepresentation);
        var usage = response.Usage!;
        Assert.Equal(108, usage.InputTokenCount);
        Assert.Equal(10, usage.OutputTokenCount);
        Assert.Equal(118, usage.TotalTokenCount);
        Assert.Equal(64, usage.CachedInputTokenCount);
        Assert.Equal(4, usage.ReasoningTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_ReasoningOutsideCompletionTokens_CountsItAsOutputAndKeepsTheTotal()
    {
        // Given xAI's accounting: reasoning tokens outside completion_tokens, inside total_tokens
        var body = OpenAIWire.Completion(
            """{"role":"assistant","content":"ok"}""",
            usage: """{"prompt_tokens":307,"completion_tokens":26,"total_tokens":588,"completion_tokens_details":{"reasoning_tokens":255}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(588, response.Usage!.TotalTokenCount);
        Assert.Equal(26 + 255, response.Usage.OutputTokenCount);
        Assert.Equal(255, response.Usage.ReasoningTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_ReasoningInsideCompletionTokens_LeavesOutputAsReported()
    {
        // Given OpenAI's accounting: completion_tokens (3,000) include the 2,500 reasoning tokens
        var body = OpenAIWire.Completion(
            """{"role":"assistant","content":"ok"}""",
            usage: """{"prompt_tokens":1000,"completion_tokens":3000,"total_tokens":4000,"completion_tokens_details":{"reasoning_tokens":2500}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal((3000L, 2500L, 4000L), (response.Usage!.OutputTokenCount!.Value, response.Usage.ReasoningTokenCount!.Value, response.Usage.TotalTokenCount!.Value));
    }

    [Fact]
    public async Task GetResponseAsync_NoTotalReported_AddsInputAndOutput()
    {
        // Given
        var body = OpenAIWire.Completion("""{"role":"assistant","content":"ok"}""", usage: """{"prompt_tokens":7,"completion_tokens":3}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(10, response.Usage!.TotalTokenCount);
    }

    [Theory]
    [InlineData("""{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}""")]
    [InlineData("""{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}""")]
    [InlineData("""{"role":"assistant","tool_calls":[{"id":"call_1","function":{"name":"f","arguments":"{\"a\":1}"}}]}""")]
    public async Task GetResponseAsync_ToolCallWithNullEmptyOrMissingContent_ReturnsOnlyTheCall(string message)
    {
        // Given
        var body = OpenAIWire.Completion(message, "tool_calls");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var content = Assert.Single(response.Messages[0].Contents);
        var call = Assert.IsType<FunctionCallContent>(content);
        Assert.Equal("call_1", call.CallId);
        Assert.Equal("f", call.Name);
        Assert.Equal(1, ((JsonElement)call.Arguments!["a"]!).GetInt32());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_ForcedToolCallWithFinishStop_ReportsToolCalls()
    {
        // Given
        var body = OpenAIWire.Completion("""{"role":"assistant","content":null,"tool_calls":[{"id":"call_2","type":"function","function":{"name":"n","arguments":"{}"}}]}""", "stop");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Empty(Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages[0].Contents)).Arguments!);
    }

    [Fact]
    public async Task GetResponseAsync_LegacyFunctionCall_ReturnsCallWithSyntheticId()
    {
        // Given
        var body = OpenAIWire.Completion("""{"role":"assistant","content":null,"function_call":{"name":"get_color","arguments":"{\"month\":\"May\"}"}}""", "function_call");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages[0].Contents));
        Assert.Equal("get_color", call.Name);
        Assert.False(string.IsNullOrEmpty(call.CallId));
        Assert.Equal("May", ((JsonElement)call.Arguments!["month"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_InvalidArgumentsJson_ReturnsCallWithException()
    {
        // Given
        var body = OpenAIWire.Completion("""{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}""", "tool_calls");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.NotNull(Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages[0].Contents)).Exception);
    }

    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("reasoning")]
    public async Task GetResponseAsync_Reasoning_IsKeptApartFromAnswerText(string field)
    {
        // Given
        var body = OpenAIWire.Completion($$"""{"role":"assistant","content":"42","{{field}}":"Let me think."}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Answer?", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("42", response.Text);
        Assert.Equal("Let me think.", Assert.Single(response.Messages[0].Contents.OfType<TextReasoningContent>()).Text);
    }

    [Theory]
    [InlineData("stop", "stop")]
    [InlineData("length", "length")]
    [InlineData("content_filter", "content_filter")]
    [InlineData("tool_calls", "tool_calls")]
    [InlineData("function_call", "tool_calls")]
    public async Task GetResponseAsync_FinishReason_IsMapped(string wire, string expected)
    {
        // Given
        var body = OpenAIWire.Completion("""{"role":"assistant","content":"x"}""", wire);
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(new ChatFinishReason(expected), response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_Refusal_IsReturnedAsText()
    {
        // Given
        var body = OpenAIWire.Completion("""{"role":"assistant","content":null,"refusal":"I can't help with that."}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("I can't help with that.", response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_Utf8WithByteOrderMark_ReadsTheTextIntact()
    {
        // Given a server that starts its UTF-8 body with a byte order mark, and an answer beyond ASCII
        var body = OpenAIWire.Completion("""{"role":"assistant","content":"Grüße, 世界 👋"}""");
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                c.Response.ContentType = "application/json; charset=utf-8";
                await c.Response.Body.WriteAsync(new byte[] { 0xEF, 0xBB, 0xBF }, c.RequestAborted);
                await c.Response.WriteAsync(body, c.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Grüße, 世界 👋", response.Text);
        Assert.Equal(15, response.Usage!.TotalTokenCount);
    }
}
