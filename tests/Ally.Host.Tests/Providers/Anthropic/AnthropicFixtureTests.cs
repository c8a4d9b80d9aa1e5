using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Anthropic;

/// <summary>Replays the real recorded Anthropic traffic in ../shared/fixtures/anthropic (skipped where it is absent).</summary>
public sealed class AnthropicFixtureTests
{
    private const string WeatherSchema = """{"properties":{"city":{"type":"string"},"units":{"enum":["celsius","fahrenheit"],"type":"string"}},"required":["city"],"type":"object"}""";

    [Fact]
    public async Task GetResponseAsync_RecordedTextAnswer_Parsed()
    {
        // Given
        if (Fixtures.Read("anthropic/chat_text.json") is not { } body)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello, how are you?")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?", response.Text);
        Assert.Equal("msg_01VdEjxAP5ahtHKrrRdNBteQ", response.ResponseId);
        Assert.Equal("claude-sonnet-4-5-20250929", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(12, response.Usage!.InputTokenCount);
        Assert.Equal(29, response.Usage.OutputTokenCount);
        Assert.Equal(41, response.Usage.TotalTokenCount);
        Assert.Equal(0, response.Usage.CachedInputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_RecordedToolUse_RequestMatchesRecordingAndCallParsed()
    {
        // Given
        if (Fixtures.Read("anthropic/chat_tool_use.json") is not { } body ||
            Fixtures.Read("anthropic/chat_tool_use.headers") is not { } headers ||
            Fixtures.Read("anthropic/chat_tool_use.request.json") is not { } recorded)
        {
            return;
        }

        await using var server = await ReplayJsonAsync(headers, body);
        using var client = AnthropicWire.Client(server, s => s with { Model = "claude-3-7-sonnet-latest" });

        // When
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "What's the weather in San Francisco? Use fahrenheit.")],
            WeatherOptions("Get weather"),
            TestContext.Current.CancellationToken);

        // Then
        AssertSameBody(recorded, server.LastRequest);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal("I'll get the current weather in San Francisco for you in Fahrenheit.", response.Text);
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("toolu_01TZR6ZrLHdpAWdmhVPuDfjQ", call.CallId);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("San Francisco", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal("fahrenheit", ((JsonElement)call.Arguments["units"]!).GetString());
        Assert.Equal(402, response.Usage!.InputTokenCount);
        Assert.Equal(89, response.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_RecordedAnswerAfterToolResult_RequestMatchesRecording()
    {
        // Given
        if (Fixtures.Read("anthropic/chat_text_after_tool_result.json") is not { } body ||
            Fixtures.Read("anthropic/chat_text_after_tool_result.headers") is not { } headers ||
            Fixtures.Read("anthropic/chat_text_after_tool_result.request.json") is not { } recorded)
        {
            return;
        }

        await using var server = await ReplayJsonAsync(headers, body);
        using var client = AnthropicWire.Client(server, s => s with { Model = "claude-3-7-sonnet-latest" });

        // When
        var response = await client.GetResponseAsync(
            ToolHistory("What's the weather in San Francisco? Use fahrenheit.", "toolu_01TZR6ZrLHdpAWdmhVPuDfjQ"),
            WeatherOptions("Get weather"),
            TestContext.Current.CancellationToken);

        // Then
        AssertSameBody(recorded, server.LastRequest);
        Assert.Equal("The current temperature in San Francisco is 68 degrees Fahrenheit.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(514, response.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_RecordedTextAndToolUse_RequestMatchesRecordingAndBothParsed()
    {
        // Given
        if (Fixtures.Read("anthropic/chat_text_and_tool_use_2.json") is not { } body ||
            Fixtures.Read("anthropic/chat_text_and_tool_use_2.headers") is not { } headers ||
            Fixtures.Read("anthropic/chat_text_and_tool_use_2.request.json") is not { } recorded)
        {
            return;
        }

        await using var server = await ReplayJsonAsync(headers, body);
        using var client = AnthropicWire.Client(server, s => s with { Model = "claude-3-7-sonnet-latest" });

        // When
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "What's the weather in San Francisco, New York, and London? Check all three cities at once.")],
            WeatherOptions("Get weather for a city"),
            TestContext.Current.CancellationToken);

        // Then
        AssertSameBody(recorded, server.LastRequest);
        Assert.StartsWith("I'd be happy to check the weather", response.Text, StringComparison.Ordinal);
        Assert.Equal("toolu_019dfQh1VSo4ykF3MUFvGpMg", Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>()).CallId);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public async Task GetStreamingResponseAsync_RecordedTextStream_ParsedWithRecordedUsage(int chunkSize)
    {
        // Given
        if (ReadBytes("anthropic/stream_text.sse") is not { } sse ||
            Fixtures.Read("anthropic/stream_text.headers") is not { } headers ||
            Fixtures.Read("anthropic/stream_text.request.json") is not { } recorded)
        {
            return;
        }

        await using var server = await ReplaySseAsync(sse, headers, chunkSize);
        using var client = AnthropicWire.Client(server, s => s with { Model = "claude-3-7-sonnet-latest" });

        // When
        var updates = await CollectAsync(client.GetStreamingResponseAsync(
            ToolHistory("Weather in SF in fahrenheit?", "toolu_01RaX2WYWRWCbaeFHssmGJXG"),
            WeatherOptions("Get weather"),
            TestContext.Current.CancellationToken));

        // Then
        AssertSameBody(recorded, server.LastRequest);
        var response = updates.ToChatResponse();
        Assert.Equal("The current weather in San Francisco is 68 degrees Fahrenheit.", response.Text);
        Assert.Equal("msg_01Hh7yjeiaEaEREnpywjByCo", response.ResponseId);
        Assert.Equal("claude-3-7-sonnet-20250219", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(509, response.Usage!.InputTokenCount);
        Assert.Equal(19, response.Usage.OutputTokenCount);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public async Task GetStreamingResponseAsync_RecordedToolUseStream_CallAssembledFromFragments(int chunkSize)
    {
        // Given
        if (ReadBytes("anthropic/stream_tool_use.sse") is not { } sse ||
            Fixtures.Read("anthropic/stream_tool_use.headers") is not { } headers ||
            Fixtures.Read("anthropic/stream_tool_use.request.json") is not { } recorded)
        {
            return;
        }

        await using var server = await ReplaySseAsync(sse, headers, chunkSize);
        using var client = AnthropicWire.Client(server, s => s with { Model = "claude-3-7-sonnet-latest" });

        // When
        var updates = await CollectAsync(client.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.User, "Weather in SF in fahrenheit?")],
            WeatherOptions("Get weather"),
            TestContext.Current.CancellationToken));

        // Then
        AssertSameBody(recorded, server.LastRequest);
        Assert.Equal("I'll get the current weather in San Francisco for you in Fahrenheit.", string.Concat(updates.Select(u => u.Text)));
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("toolu_01RaX2WYWRWCbaeFHssmGJXG", call.CallId);
        Assert.Equal("San Francisco", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal("fahrenheit", ((JsonElement)call.Arguments["units"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(397, usage.InputTokenCount);
        Assert.Equal(89, usage.OutputTokenCount);
    }

    [Theory]
    [InlineData("anthropic/stream_tool_use_sonnet4.sse", "I'll check the current weather in Paris for you.", "location", "Paris", 377, 65)]
    [InlineData("anthropic/stream_tool_use.docs.sse", "Okay, let's check the weather for San Francisco, CA:", "location", "San Francisco, CA", 472, 89)]
    public async Task GetStreamingResponseAsync_RecordedToolStreams_ParsedIncludingUnterminatedLastEvent(
        string fixture, string text, string argument, string value, int input, int output)
    {
        // Given
        if (ReadBytes(fixture) is not { } sse)
        {
            return;
        }

        await using var server = await ReplaySseAsync(sse, headers: null, chunkSize: 0);
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(text, string.Concat(updates.Select(u => u.Text)));
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal(value, ((JsonElement)call.Arguments![argument]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(input, usage.InputTokenCount);
        Assert.Equal(output, usage.OutputTokenCount);
    }

    [Theory]
    [InlineData("anthropic/stream_text_basic.sse", "Hello there!", 11, 6)]
    [InlineData("anthropic/stream_text.docs.sse", "Hello!", 25, 15)]
    public async Task GetStreamingResponseAsync_RecordedTextStreams_Parsed(string fixture, string text, int input, int output)
    {
        // Given
        if (ReadBytes(fixture) is not { } sse)
        {
            return;
        }

        await using var server = await ReplaySseAsync(sse, headers: null, chunkSize: 0);
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hello")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(input, usage.InputTokenCount);
        Assert.Equal(output, usage.OutputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecordedChunksFramedAsDataOnly_Parsed()
    {
        // Given
        if (Fixtures.Read("anthropic/stream_text.vercel.chunks.jsonl") is not { } chunks)
        {
            return;
        }

        var sse = string.Concat(chunks.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => $"data: {line}\n\n"));
        await using var server = await ReplaySseAsync(AnthropicWire.Utf8(sse), headers: null, chunkSize: 0);
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hello, how are you?")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(30, Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details.OutputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecordedErrorEventOnly_ThrowsOverloaded()
    {
        // Given
        if (ReadBytes("anthropic/stream_error_event.docs.sse") is not { } sse)
        {
            return;
        }

        await using var server = await ReplaySseAsync(sse, headers: null, chunkSize: 0);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hello")], cancellationToken: TestContext.Current.CancellationToken)));

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, ex.Kind);
        Assert.Equal("overloaded_error", ex.ErrorCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecordedMidStreamError_ThrowsTruncatedWithPartialText()
    {
        // Given
        if (ReadBytes("anthropic/stream_error_midstream.composed.sse") is not { } sse)
        {
            return;
        }

        await using var server = await ReplaySseAsync(sse, headers: null, chunkSize: 0);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hello")], cancellationToken: TestContext.Current.CancellationToken)));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, ex.Kind);
        Assert.Equal("Hello", ex.PartialText);
        Assert.Equal("overloaded_error", ex.ErrorCode);
    }

    private static ChatOptions WeatherOptions(string description) => new()
    {
        MaxOutputTokens = 512,
        Tools = [AIFunctionFactory.CreateDeclaration("get_weather", description, JsonElement.Parse(WeatherSchema))],
    };

    private static List<ChatMessage> ToolHistory(string question, string callId) =>
    [
        new(ChatRole.User, question),
        new(ChatRole.Assistant,
        [
            new TextContent("I'll get the current weather in San Francisco for you in Fahrenheit."),
            new FunctionCallContent(callId, "get_weather", new Dictionary<string, object?> { ["city"] = "San Francisco", ["units"] = "fahrenheit" }),
        ]),
        new(ChatRole.Tool, [new FunctionResultContent(callId, new TextContent("The weather in San Francisco is 68 degrees fahrenheit."))]),
    ];

    private static void AssertSameBody(string recorded, RecordedRequest request)
    {
        var expected = JsonNode.Parse(recorded)!["body"];
        var actual = JsonNode.Parse(request.Body);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"Request body differs from the recording.\nExpected: {expected!.ToJsonString()}\nActual:   {actual!.ToJsonString()}");
        Assert.Equal("/v1/messages", request.PathAndQuery);
    }

    private static byte[]? ReadBytes(string relativePath)
    {
        var path = Path.Combine(Fixtures.RootOrSkip(), relativePath);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    private static Task<LoopbackServer> ReplayJsonAsync(string headers, string body) =>
        LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.ApplyRecordedHeaders(ctx, headers);
                await ctx.Response.WriteAsync(body, ctx.RequestAborted);
            },
            TestContext.Current.CancellationToken);

    /// <summary>Serves the recorded bytes as they are, whole or in small chunks that cut events and characters apart.</summary>
    private static Task<LoopbackServer> ReplaySseAsync(byte[] sse, string? headers, int chunkSize) =>
        LoopbackServer.StartAsync(
            async ctx =>
            {
                if (headers is null)
                {
                    AnthropicWire.StartSse(ctx);
                }
                else
                {
                    AnthropicWire.ApplyRecordedHeaders(ctx, headers);
                }

                var size = chunkSize > 0 ? chunkSize : sse.Length;
                for (var offset = 0; offset < sse.Length; offset += size)
                {
                    await ctx.Response.Body.WriteAsync(sse.AsMemory(offset, Math.Min(size, sse.Length - offset)), ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                }
            },
            TestContext.Current.CancellationToken);

    private static async Task<List<ChatResponseUpdate>> CollectAsync(IAsyncEnumerable<ChatResponseUpdate> stream)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in stream.WithCancellation(TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        return updates;
    }
}
