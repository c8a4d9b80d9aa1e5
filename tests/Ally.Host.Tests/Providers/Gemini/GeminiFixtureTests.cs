using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Gemini;

/// <summary>Replays every recording in shared/fixtures/gemini; each test passes trivially where the folder is absent.</summary>
public sealed class GeminiFixtureTests
{
    [Fact]
    public async Task GetResponseAsync_ChatText_ParsesAnswerAndUsage()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_text.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Where is Google?")], cancellationToken: ct);

        // Then
        Assert.StartsWith("Google's headquarters", response.Text, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("gemini-2.0-flash", response.ModelId);
        Assert.Equal(7, response.Usage!.InputTokenCount);
        Assert.Equal(22, response.Usage.OutputTokenCount);
        Assert.Equal(29, response.Usage.TotalTokenCount);
    }

    [Theory]
    [InlineData("gemini/chat_finish_reason_safety.json", "Safety error incoming in 5, 4, 3, 2...")]
    [InlineData("gemini/chat_finish_reason_safety.vertex.json", "<redacted>")]
    public async Task GetResponseAsync_SafetyFinish_ReturnsContentFilter(string fixture, string expectedText)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.Equal(ChatFinishReason.ContentFilter, response.FinishReason);
        Assert.Equal(expectedText, response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_ChatFunctionCall_KeepsSignatureAndCountsThoughtsAsOutput()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_function_call.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather in SF?")], cancellationToken: ct);

        // Then
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("weather", call.Name);
        Assert.Equal("San Francisco", ((JsonElement)call.Arguments!["location"]!).GetString());
        Assert.StartsWith("EskgCsYgAb4", (string)call.AdditionalProperties!["thoughtSignature"]!, StringComparison.Ordinal);
        Assert.Equal("m36LaZGyCLz1xs0PtNSB-QU", response.ResponseId);
        Assert.Equal("gemini-3-pro-preview", response.ModelId);
        Assert.Equal(29, response.Usage!.InputTokenCount);
        Assert.Equal(15 + 893, response.Usage.OutputTokenCount);
        Assert.Equal(893, response.Usage.ReasoningTokenCount);
        Assert.Equal(937, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_ChatFunctionCallArgs_ParsesArguments()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_function_call_args.vertex.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "4+5?")], cancellationToken: ct);

        // Then
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("sum", call.Name);
        Assert.Equal(4, ((JsonElement)call.Arguments!["x"]!).GetInt32());
        Assert.Equal(5, ((JsonElement)call.Arguments["y"]!).GetInt32());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Null(response.Usage);
    }

    [Fact]
    public async Task GetResponseAsync_ChatFunctionCallNoArgs_GivesEmptyArguments()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_function_call_no_args.vertex.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Time?")], cancellationToken: ct);

        // Then
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("current_time", call.Name);
        Assert.Empty(call.Arguments!);
    }

    [Fact]
    public async Task GetResponseAsync_ChatFunctionCallThinking_KeepsReasoningApart()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_function_call_thinking.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Days until NYE?")], cancellationToken: ct);

        // Then
        var contents = response.Messages[0].Contents;
        Assert.StartsWith("**Thinking Through", Assert.Single(contents.OfType<TextReasoningContent>()).Text, StringComparison.Ordinal);
        Assert.Empty(response.Text);
        Assert.Equal("now", Assert.Single(contents.OfType<FunctionCallContent>()).Name);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(8 + 501, response.Usage!.OutputTokenCount);
        Assert.Equal(501, response.Usage.ReasoningTokenCount);
        Assert.Equal(547, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_ChatParallelFunctionCalls_GivesThreeDistinctCalls()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_parallel_function_calls.vertex.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Sums")], cancellationToken: ct);

        // Then
        var calls = response.Messages[0].Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal(3, calls.Select(c => c.CallId).Distinct().Count());
        Assert.Equal([2, 4, 6], calls.Select(c => ((JsonElement)c.Arguments!["x"]!).GetInt32()));
    }

    [Fact]
    public async Task GetResponseAsync_ChatPromptBlocked_ThrowsContentFilter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/chat_prompt_blocked_safety.vertex.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.ContentFilter, exception.Kind);
        Assert.Contains("SAFETY", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gemini/error_400_api_key_invalid.json", 400, ProviderErrorKind.Authentication, "API_KEY_INVALID")]
    [InlineData("gemini/error_403_api_not_enabled.json", 403, ProviderErrorKind.Authentication, "SERVICE_DISABLED")]
    [InlineData("gemini/error_404_model_not_found.json", 404, ProviderErrorKind.NotFound, "NOT_FOUND")]
    [InlineData("gemini/error_429_quota_exceeded.json", 429, ProviderErrorKind.RateLimit, "RATE_LIMIT_EXCEEDED")]
    [InlineData("gemini/error_429_retry_info.vercel.json", 429, ProviderErrorKind.RateLimit, "RESOURCE_EXHAUSTED")]
    public async Task GetResponseAsync_ErrorFixture_ClassifiesByStatusAndDetails(string fixture, int status, ProviderErrorKind expected, string expectedCode)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, status, ct);
        using var client = GeminiWire.NewClient(server, apiKey: "key1234");

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(expected, exception.Kind);
        Assert.Equal(status, exception.StatusCode);
        Assert.Equal(expectedCode, exception.ErrorCode);
        Assert.Equal(JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString(), exception.Message);
        Assert.DoesNotContain("key1234", exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ErrorRetryInfoFixture_SetsRetryAfter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/error_429_retry_info.vercel.json") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartJsonAsync(body, 429, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(TimeSpan.FromSeconds(34.4), exception.RetryAfter);
    }

    [Fact]
    public async Task ListModelsAsync_ModelsListFixture_KeepsGenerateContentModelsWithoutPrefix()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/models_list.json") is not { } body)
        {
            return;
        }

        const string LastPage = """{"models":[{"name":"models/gemini-next","inputTokenLimit":10,"outputTokenLimit":5,"supportedGenerationMethods":["generateContent"]}]}""";
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.ContentType = "application/json";
                await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(
                    context.Response,
                    context.Request.Query.ContainsKey("pageToken") ? LastPage : body,
                    context.RequestAborted);
            },
            ct);
        using var client = GeminiWire.NewClient(server);
        var expected = JsonDocument.Parse(body).RootElement.GetProperty("models").EnumerateArray()
            .Where(m => m.GetProperty("supportedGenerationMethods").EnumerateArray().Any(g => g.GetString() == "generateContent"))
            .Select(m => m.GetProperty("name").GetString()!["models/".Length..])
            .Append("gemini-next")
            .ToList();

        // When
        var models = await client.ListModelsAsync(ct);

        // Then
        Assert.Equal(expected, models.Select(m => m.Id));
        Assert.DoesNotContain(models, m => m.Id.StartsWith("models/", StringComparison.Ordinal));
        Assert.DoesNotContain(models, m => m.Id == "embedding-gecko-001");
        var pro = models.First(m => m.Id == "gemini-1.5-pro-latest");
        Assert.Equal(2000000, pro.ContextWindow);
        Assert.Equal(8192, pro.MaxOutputTokens);
        Assert.Equal("Gemini 1.5 Pro Latest", pro.DisplayName);
        Assert.Contains("pageToken=Cihtb2RlbHMvaW1hZ2VuLTQuMC1nZW5lcmF0ZS1wcmV2aWV3LTA2LTA2", server.LastRequest.PathAndQuery, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gemini/stream_text.sse")]
    [InlineData("gemini/stream_text_long.sse")]
    public async Task GetStreamingResponseAsync_TextFixture_ReassemblesAnswerWithFinalUsage(string fixture)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);
        var chunks = DataChunks(body);
        var expectedText = string.Concat(chunks.SelectMany(c => c.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts").EnumerateArray()).Select(p => p.GetProperty("text").GetString()));
        var lastUsage = chunks[^1].GetProperty("usageMetadata");

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(expectedText, GeminiWire.Text(updates));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        var usage = GeminiWire.Usage(updates)!;
        Assert.Equal(lastUsage.GetProperty("promptTokenCount").GetInt64(), usage.InputTokenCount);
        Assert.Equal(lastUsage.GetProperty("candidatesTokenCount").GetInt64(), usage.OutputTokenCount);
        Assert.Equal(lastUsage.GetProperty("totalTokenCount").GetInt64(), usage.TotalTokenCount);
        Assert.Equal("gemini-2.0-flash", updates[0].ModelId);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EmptyPartsFixture_SkipsEmptyChunkAndKeepsImage()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_empty_parts.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Draw a kitten")], cancellationToken: ct));

        // Then
        Assert.Equal("Here's a cute cartoon kitten playing with a ball of yarn for you! ", GeminiWire.Text(updates));
        var image = Assert.Single(updates.SelectMany(u => u.Contents).OfType<DataContent>());
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.Equal("kLewaKa5ONqI-8YP-c_NuAQ", updates[^1].ResponseId);
        Assert.Equal(1323, GeminiWire.Usage(updates)!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorMidstreamFixture_ThrowsTruncatedStreamWithPartialText()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_error_midstream.vertex.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("First Second ", exception.PartialText);
        Assert.Contains("The operation was cancelled.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecitationFixture_EndsWithContentFilter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_finish_reason_recitation.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.StartsWith("text", GeminiWire.Text(updates), StringComparison.Ordinal);
        Assert.Contains("text8", GeminiWire.Text(updates), StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);
        Assert.Equal(261, GeminiWire.Usage(updates)!.OutputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SafetyFixture_EndsWithContentFilter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_finish_reason_safety.vertex.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal("<redacted>", GeminiWire.Text(updates));
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);
        Assert.Equal(76, GeminiWire.Usage(updates)!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FunctionCallVertexFixture_EmitsCallAndToolCallsFinish()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_function_call.vertex.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Temperature?")], cancellationToken: ct));

        // Then
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("getTemperature", call.Name);
        Assert.Equal("San Jose", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FunctionCallChunksFixture_EmitsCallWithSignature()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_function_call.vercel.chunks.jsonl") is not { } jsonl)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(GeminiWire.FrameChunks(jsonl), ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], cancellationToken: ct));

        // Then
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("weather", call.Name);
        Assert.StartsWith("EqUCCqICAb4", (string)call.AdditionalProperties!["thoughtSignature"]!, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Empty(GeminiWire.Text(updates));
        var usage = GeminiWire.Usage(updates)!;
        Assert.Equal(15 + 45, usage.OutputTokenCount);
        Assert.Equal(45, usage.ReasoningTokenCount);
        Assert.Equal(89, usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FunctionCallThinkingFixture_StreamsReasoningThenCall()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_function_call_thinking.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Days until NYE?")], cancellationToken: ct));

        // Then
        var reasoning = updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().ToList();
        Assert.Equal(2, reasoning.Count);
        Assert.StartsWith("**Calculating the Days**", reasoning[0].Text, StringComparison.Ordinal);
        Assert.Empty(GeminiWire.Text(updates));
        Assert.Equal("now", Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>()).Name);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        var usage = GeminiWire.Usage(updates)!;
        Assert.Equal(38, usage.InputTokenCount);
        Assert.Equal(6 + 168, usage.OutputTokenCount);
        Assert.Equal(168, usage.ReasoningTokenCount);
        Assert.Equal(212, usage.TotalTokenCount);
        Assert.Equal("gemini-2.5-flash", updates[^1].ModelId);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_PromptBlockedFixture_ThrowsContentFilter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_prompt_blocked_safety.sse") is not { } body)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.ContentFilter, exception.Kind);
        Assert.Contains("SAFETY", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Gemini3ChunksFixture_IgnoresSignatureOnlyPartAndCountsThoughts()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("gemini/stream_text_gemini3.vercel.chunks.jsonl") is not { } jsonl)
        {
            return;
        }

        await using var server = await GeminiWire.StartSseAsync(GeminiWire.FrameChunks(jsonl), ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "How many r in strawberry?")], cancellationToken: ct));

        // Then
        Assert.Equal("There are **3** \"r\"s in strawberry.\n\nst**r**awbe**rr**y", GeminiWire.Text(updates));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.Equal("bH6LaZW8Fp_3nsEPqtaSwQ4", updates[^1].ResponseId);
        var usage = GeminiWire.Usage(updates)!;
        Assert.Equal(9, usage.InputTokenCount);
        Assert.Equal(23 + 185, usage.OutputTokenCount);
        Assert.Equal(185, usage.ReasoningTokenCount);
        Assert.Equal(217, usage.TotalTokenCount);
    }

    private static List<JsonElement> DataChunks(string sse) =>
        sse.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.StartsWith("data: ", StringComparison.Ordinal))
            .Select(line => JsonDocument.Parse(Encoding.UTF8.GetBytes(line["data: ".Length..])).RootElement.Clone())
            .ToList();
}
