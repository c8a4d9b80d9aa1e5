using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Pricing;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.OpenAI;

/// <summary>Replays responses recorded from the real services (../shared/fixtures/openai); skipped where the folder is absent.</summary>
public sealed class OpenAIFixtureReplayTests
{
    [Fact]
    public async Task GetResponseAsync_RecordedText_ParsesTextAndUsage()
    {
        // Given
        if (Fixtures.Read("openai/chat_text.json") is not { } body)
        {
            return;
        }

        var expected = JsonDocument.Parse(body).RootElement;
        await using var server = await ReplayAsync(Fixtures.Read("openai/chat_text.headers"), body);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expected.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), response.Text);
        Assert.Equal(expected.GetProperty("id").GetString(), response.ResponseId);
        Assert.Equal(expected.GetProperty("usage").GetProperty("total_tokens").GetInt64(), response.Usage!.TotalTokenCount);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_RecordedAfterToolResult_ParsesAnswer()
    {
        // Given
        if (Fixtures.Read("openai/chat_after_tool_result.json") is not { } body)
        {
            return;
        }

        await using var server = await ReplayAsync(Fixtures.Read("openai/chat_after_tool_result.headers"), body);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Your favorite color in February is chartreuse.", response.Text);
        Assert.Equal(118, response.Usage!.TotalTokenCount);
        Assert.Equal(0, response.Usage.CachedInputTokenCount);
    }

    [Theory]
    [InlineData("openai/chat_tool_call", "get_favorite_color_for_month", 1)]
    [InlineData("openai/chat_parallel_tool_calls", "get_weather_for_city", 2)]
    [InlineData("openai/chat_tool_call_forced_finish_stop", "get_number_for_word", 1)]
    [InlineData("openai/chat_tool_call_no_args", "get_favorite_color", 1)]
    [InlineData("openai/chat_legacy_function_call", "get_favorite_color_for_month", 1)]
    [InlineData("openai/compat/deepseek_chat_tool_call", "weather", 1)]
    [InlineData("openai/compat/groq_chat_tool_call", "weather", 1)]
    [InlineData("openai/compat/mistral_chat_tool_call", "weather", 1)]
    [InlineData("openai/compat/xai_chat_tool_call", "weather", 1)]
    public async Task GetResponseAsync_RecordedToolCalls_ReturnsCallsAndToolCallsFinish(string fixture, string name, int count)
    {
        // Given
        if (Fixtures.Read(fixture + ".json") is not { } body)
        {
            return;
        }

        await using var server = await ReplayAsync(Fixtures.Read(fixture + ".headers"), body);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var calls = response.Messages[0].Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(count, calls.Count);
        Assert.All(calls, c =>
        {
            Assert.Equal(name, c.Name);
            Assert.False(string.IsNullOrEmpty(c.CallId));
            Assert.Null(c.Exception);
            Assert.NotNull(c.Arguments);
        });
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Empty(response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_RecordedDeepSeekReasoner_KeepsReasoningApartAndReadsCache()
    {
        // Given
        if (Fixtures.Read("openai/compat/deepseek_chat_tool_call.json") is not { } body)
        {
            return;
        }

        await using var server = await ReplayAsync(null, body);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "deepseek" });

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.StartsWith("The user is asking", Assert.Single(response.Messages[0].Contents.OfType<TextReasoningContent>()).Text, StringComparison.Ordinal);
        Assert.Equal(320, response.Usage!.CachedInputTokenCount);
        Assert.Equal(48, response.Usage.ReasoningTokenCount);
        Assert.Equal(431, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_RecordedXai_CountsReasoningAsOutputAndCostsWhatXaiBilled()
    {
        // Given
        if (Fixtures.Read("openai/compat/xai_chat_tool_call.json") is not { } body)
        {
            return;
        }

        await using var server = await ReplayAsync(null, body);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "xai" });

        // When
        var response = await client.GetResponseAsync("Go", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(588, response.Usage!.TotalTokenCount);
        Assert.Equal(26 + 255, response.Usage.OutputTokenCount);
        Assert.Equal(244, response.Usage.CachedInputTokenCount);
        Assert.Equal(255, response.Usage.ReasoningTokenCount);

        // xAI's own bill for the call, cost_in_usd_ticks (1e-10 USD each), is what the price table gives:
        // grok-3-mini at $0.30 in, $0.075 cached, $0.50 out: 63 × 0.30 + 244 × 0.075 + (26 + 255) × 0.50 = 177.7 µ$.
        var billed = JsonDocument.Parse(body).RootElement.GetProperty("usage").GetProperty("cost_in_usd_ticks").GetInt64() / 10_000_000_000m;
        Assert.Equal(0.0001777m, billed);
        Assert.Equal(billed, CostCalculator.Compute(PriceTable.BuiltIn.Find("xai", response.ModelId), response.Usage));
    }

    [Theory]
    [InlineData("openai/compat/groq_chat_text.json")]
    [InlineData("openai/compat/mistral_chat_text.json")]
    public async Task GetResponseAsync_RecordedCompatText_ParsesText(string fixture)
    {
        // Given
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        var expected = JsonDocument.Parse(body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        await using var server = await ReplayAsync(null, body);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "compat" });

        // When
        var response = await client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expected, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Theory]
    [InlineData("openai/error_401_invalid_api_key", ProviderErrorKind.Authentication, "invalid_api_key")]
    [InlineData("openai/error_400_invalid_request", ProviderErrorKind.InvalidRequest, "invalid_function_parameters")]
    [InlineData("openai/error_404_model_not_found", ProviderErrorKind.NotFound, "model_not_found")]
    public async Task GetResponseAsync_RecordedError_IsClassified(string fixture, ProviderErrorKind kind, string code)
    {
        // Given
        if (Fixtures.Read(fixture + ".json") is not { } body)
        {
            return;
        }

        await using var server = await ReplayAsync(Fixtures.Read(fixture + ".headers"), body);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(kind, exception.Kind);
        Assert.Equal(code, exception.ErrorCode);
        Assert.DoesNotContain("****", exception.Message, StringComparison.Ordinal);
        Assert.Null(exception.RetryAfter);
    }

    [Fact]
    public async Task ListModelsAsync_RecordedList_ReturnsEveryModel()
    {
        // Given
        if (Fixtures.Read("openai/models_list.json") is not { } body)
        {
            return;
        }

        var expected = JsonDocument.Parse(body).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        await using var server = await ReplayAsync(Fixtures.Read("openai/models_list.headers"), body);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var models = await client.ListModelsAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expected, models.Select(m => m.Id));
        Assert.All(models, m => Assert.NotNull(m.OwnedBy));
    }

    [Theory]
    [InlineData("openai/stream_text.sse", "stop", 44)]
    [InlineData("openai/stream_text_with_usage.sse", "stop", 36)]
    [InlineData("openai/stream_finish_length.sse", "length", 80)]
    public async Task GetStreamingResponseAsync_RecordedTextStream_JoinsTextAndReadsUsage(string fixture, string finish, int total)
    {
        // Given
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        var expectedText = ExpectedStreamText(OpenAIWire.SplitSse(body).Select(p => p.Trim()).Where(p => p.StartsWith("data: {", StringComparison.Ordinal)).Select(p => p["data: ".Length..]));
        var headers = Fixtures.Read(fixture.Replace(".sse", ".headers", StringComparison.Ordinal));
        await using var server = await ReplayAsync(headers, OpenAIWire.SplitSse(body), "text/event-stream; charset=utf-8");
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var response = updates.ToChatResponse();
        Assert.Equal(expectedText, response.Text);
        Assert.Equal(new ChatFinishReason(finish), updates[^1].FinishReason);
        Assert.Equal(total, response.Usage!.TotalTokenCount);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
    }

    [Theory]
    [InlineData("openai/stream_tool_call.sse", 1)]
    [InlineData("openai/stream_parallel_tool_calls.sse", 2)]
    public async Task GetStreamingResponseAsync_RecordedToolCallStream_ReturnsWholeCalls(string fixture, int count)
    {
        // Given
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        await using var server = await ReplayAsync(null, OpenAIWire.SplitSse(body), "text/event-stream");
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(count, calls.Count);
        Assert.All(calls, c =>
        {
            Assert.StartsWith("call_", c.CallId, StringComparison.Ordinal);
            Assert.Null(c.Exception);
            Assert.NotEmpty(c.Arguments!);
        });
        Assert.Equal(count, calls.Select(c => c.CallId).Distinct().Count());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecordedDeepSeekToolStream_KeepsReasoningAndCall()
    {
        // Given
        if (Fixtures.Read("openai/compat/deepseek_stream_tool_call.chunks.jsonl") is not { } jsonl)
        {
            return;
        }

        await using var server = await ReplayAsync(null, OpenAIWire.FromJsonLines(jsonl), "text/event-stream");
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "deepseek" });

        // When
        var updates = await CollectAsync(client);

        // Then
        var response = updates.ToChatResponse();
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("weather", call.Name);
        Assert.Null(call.Exception);
        Assert.StartsWith("The user is asking", string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text)), StringComparison.Ordinal);
        Assert.Empty(response.Text);
        Assert.Equal(422, response.Usage!.TotalTokenCount);
        Assert.Equal(320, response.Usage.CachedInputTokenCount);
        Assert.Equal(39, response.Usage.ReasoningTokenCount);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Theory]
    [InlineData("openai/compat/groq_stream_tool_call.chunks.jsonl", "tk85n1k4m", 225)]
    [InlineData("openai/compat/mistral_stream_tool_call.chunks.jsonl", "gSIMJiOkT", 146)]
    public async Task GetStreamingResponseAsync_RecordedCompatToolStream_ReturnsCallAndUsage(string fixture, string callId, int total)
    {
        // Given
        if (Fixtures.Read(fixture) is not { } jsonl)
        {
            return;
        }

        await using var server = await ReplayAsync(null, OpenAIWire.FromJsonLines(jsonl), "text/event-stream");
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "compat" });

        // When
        var updates = await CollectAsync(client);

        // Then
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal(callId, call.CallId);
        Assert.Equal("weather", call.Name);
        Assert.Equal(total, updates.ToChatResponse().Usage!.TotalTokenCount);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecordedMistralText_JoinsTextAndReadsUsageFromFinishChunk()
    {
        // Given
        if (Fixtures.Read("openai/compat/mistral_stream_text.chunks.jsonl") is not { } jsonl)
        {
            return;
        }

        await using var server = await ReplayAsync(null, OpenAIWire.FromJsonLines(jsonl), "text/event-stream");
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "mistral" });

        // When
        var updates = await CollectAsync(client);

        // Then
        var response = updates.ToChatResponse();
        Assert.Equal("Hello, world! This is a test response.", response.Text);
        Assert.Equal(21, response.Usage!.TotalTokenCount);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    private static string ExpectedStreamText(IEnumerable<string> payloads)
    {
        var text = string.Empty;
        foreach (var payload in payloads)
        {
            using var chunk = JsonDocument.Parse(payload);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    text += content.GetString();
                }
            }
        }

        return text;
    }

    private static Task<LoopbackServer> ReplayAsync(string? headers, string body) => ReplayAsync(headers, [body]);

    private static Task<LoopbackServer> ReplayAsync(string? headers, string[] pieces, string contentType = "application/json") =>
        LoopbackServer.StartAsync(c => OpenAIWire.WriteRecordedAsync(c, headers, pieces, contentType), TestContext.Current.CancellationToken);

    private static async Task<List<ChatResponseUpdate>> CollectAsync(IChatClient client)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        return updates;
    }
}
