using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.OpenAI;

public sealed class OpenAIChatClientStreamingTests
{
    [Fact]
    public async Task GetStreamingResponseAsync_FirstPiece_ArrivesWhileServerHoldsTheRest()
    {
        // Given a server that sends one piece and then waits for the test to have seen it
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await OpenAIWire.WriteSseAsync(c, OpenAIWire.SseWithoutDone(OpenAIWire.Chunk("""{"role":"assistant","content":"Hel"}""")));
                await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(30), c.RequestAborted);
                await LoopbackServer.WritePiecesAsync(c, OpenAIWire.Sse(
                    OpenAIWire.Chunk("""{"content":"lo"}"""),
                    OpenAIWire.Chunk("{}", "stop"),
                    OpenAIWire.UsageChunk(5, 2, 7)));
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        var updates = new List<ChatResponseUpdate>();

        // When
        await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
            if (updates.Count == 1)
            {
                Assert.Equal("Hel", update.Text);
                firstSeen.SetResult();
            }
        }

        // Then
        var response = updates.ToChatResponse();
        Assert.Equal("Hello", response.Text);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.Equal("chatcmpl-1", response.ResponseId);
        Assert.Equal("gpt-4o-mini", response.ModelId);
        Assert.Equal(7, response.Usage!.TotalTokenCount);
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ObfuscationAndNullUsage_AreIgnoredAndFinalUsageRead()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null,"obfuscation":"XxwhkDiU7MNUsY"}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null,"obfuscation":"0Ca"}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null,"obfuscation":"6SI"}""",
            """{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":26,"completion_tokens":10,"total_tokens":36,"prompt_tokens_details":{"cached_tokens":16},"completion_tokens_details":{"reasoning_tokens":3}},"obfuscation":"KDH"}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var response = updates.ToChatResponse();
        Assert.Equal("Hi", response.Text);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Equal(26, response.Usage!.InputTokenCount);
        Assert.Equal(10, response.Usage.OutputTokenCount);
        Assert.Equal(36, response.Usage.TotalTokenCount);
        Assert.Equal(16, response.Usage.CachedInputTokenCount);
        Assert.Equal(3, response.Usage.ReasoningTokenCount);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_UsageInFinishChunkAndGroqExtension_IsCountedOnce()
    {
        // Given Groq's shape: usage twice in the finish chunk (usage and x_groq.usage)
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"role":"assistant","content":"ok"}"""),
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":210,"completion_tokens":15,"total_tokens":225}},"usage":{"prompt_tokens":210,"completion_tokens":15,"total_tokens":225}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "groq" });

        // When
        var response = (await CollectAsync(client)).ToChatResponse();

        // Then
        Assert.Equal(225, response.Usage!.TotalTokenCount);
        Assert.Equal(210, response.Usage.InputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_UsageOnlyInGroqExtension_IsRead()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"content":"ok"}"""),
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "groq" });

        // When
        var response = (await CollectAsync(client)).ToChatResponse();

        // Then
        Assert.Equal(3, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_UsageInSecondToLastChunk_IsRead()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"content":"ok"}"""),
            OpenAIWire.UsageChunk(4, 1, 5),
            OpenAIWire.Chunk("{}", "stop"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal(5, updates.ToChatResponse().Usage!.TotalTokenCount);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolCallFragments_AreJoinedIntoOneCallEmittedOnce()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]}"""),
            OpenAIWire.Chunk("{}", "tool_calls"),
            OpenAIWire.UsageChunk(48, 19, 67));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("call_A", call.CallId);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Paris", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ParallelCallsByIndex_AreKeptApart()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"w","arguments":""}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"A\"}"}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"w","arguments":""}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":1,"function":{"arguments":"{\"city\":"}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":1,"function":{"arguments":"\"B\"}"}}]}"""),
            OpenAIWire.Chunk("{}", "tool_calls"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var calls = (await CollectAsync(client)).SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();

        // Then
        Assert.Equal(["call_1", "call_2"], calls.Select(c => c.CallId));
        Assert.Equal(["A", "B"], calls.Select(c => ((JsonElement)c.Arguments!["city"]!).GetString()));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_IndexZeroForEveryCallWithNewIds_StartsNewCalls()
    {
        // Given a server that reuses index 0 for each call of a multi-call turn
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"city\":"}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"A\"}"}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"w","arguments":"{\"city\":"}}]}"""),
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"B\"}"}}]}"""),
            OpenAIWire.Chunk("{}", "tool_calls"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var calls = (await CollectAsync(client)).SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();

        // Then
        Assert.Equal(["call_1", "call_2"], calls.Select(c => c.CallId));
        Assert.Equal(["A", "B"], calls.Select(c => ((JsonElement)c.Arguments!["city"]!).GetString()));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_MistralCallsWithoutIndexOrType_AreWholeCalls()
    {
        // Given Mistral's shape: each call whole in one delta, no index, no type, finish and usage in the same chunk
        var pieces = OpenAIWire.Sse(
            """{"id":"m1","object":"chat.completion.chunk","created":1,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""",
            """{"id":"m1","object":"chat.completion.chunk","created":1,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":null,"tool_calls":[{"id":"gSIMJiOkT","function":{"name":"weather","arguments":"{\"location\": \"SF\"}"}},{"id":"hTJNKjPlU","function":{"name":"weather","arguments":"{\"location\": \"LA\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":124,"total_tokens":146,"completion_tokens":22}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "mistral" });

        // When
        var updates = await CollectAsync(client);

        // Then
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(["gSIMJiOkT", "hTJNKjPlU"], calls.Select(c => c.CallId));
        Assert.Equal(["SF", "LA"], calls.Select(c => ((JsonElement)c.Arguments!["location"]!).GetString()));
        Assert.Equal(146, updates.ToChatResponse().Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolCallsWithFinishStop_ReportToolCalls()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"w","arguments":"{}"}}]}"""),
            OpenAIWire.Chunk("{}", "stop"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Equal(ChatFinishReason.ToolCalls, updates.ToChatResponse().FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_LegacyFunctionCallDeltas_BecomeOneCall()
    {
        // Given
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"role":"assistant","content":null,"function_call":{"name":"get_color","arguments":""}}"""),
            OpenAIWire.Chunk("""{"function_call":{"arguments":"{\"month\":"}}"""),
            OpenAIWire.Chunk("""{"function_call":{"arguments":"\"May\"}"}}"""),
            OpenAIWire.Chunk("{}", "function_call"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_color", call.Name);
        Assert.Equal("May", ((JsonElement)call.Arguments!["month"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ReasoningContent_StreamsApartFromText()
    {
        // Given DeepSeek's reasoning_content before the answer
        var pieces = OpenAIWire.Sse(
            OpenAIWire.Chunk("""{"role":"assistant","content":null,"reasoning_content":""}"""),
            OpenAIWire.Chunk("""{"content":null,"reasoning_content":"Think"}"""),
            OpenAIWire.Chunk("""{"content":null,"reasoning":"ing."}"""),
            OpenAIWire.Chunk("""{"content":"Answer","reasoning_content":null}"""),
            OpenAIWire.Chunk("""{"content":""}""", "stop"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "deepseek" });

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal("Answer", updates.ToChatResponse().Text);
        Assert.Equal("Thinking.", string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
    }

    [Theory]
    [InlineData("length", "length")]
    [InlineData("content_filter", "content_filter")]
    [InlineData("stop", "stop")]
    public async Task GetStreamingResponseAsync_FinishReason_IsOnTheLastUpdate(string wire, string expected)
    {
        // Given
        var pieces = OpenAIWire.Sse(OpenAIWire.Chunk("""{"content":"x"}"""), OpenAIWire.Chunk("{}", wire), OpenAIWire.UsageChunk(1, 1, 2));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal(new ChatFinishReason(expected), updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AzureFilterChunksAndContentFilterFinish_ReportsContentFilter()
    {
        // Given Azure's shape: a prompt_filter_results chunk with empty id and model, then content_filter_results
        var pieces = OpenAIWire.Sse(
            """{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}""",
            """{"choices":[{"content_filter_results":{},"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1727346171,"id":"chatcmpl-az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk"}""",
            """{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Some"},"finish_reason":null,"index":0}],"created":1727346171,"id":"chatcmpl-az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk"}""",
            """{"choices":[{"content_filter_results":{"violence":{"filtered":true,"severity":"high"}},"delta":{},"finish_reason":"content_filter","index":0}],"created":1727346171,"id":"chatcmpl-az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk"}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, azure: true);

        // When
        var updates = await CollectAsync(client);

        // Then
        var response = updates.ToChatResponse();
        Assert.Equal("Some", response.Text);
        Assert.Equal("chatcmpl-az", response.ResponseId);
        Assert.Equal("gpt-4o-2024-08-06", response.ModelId);
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FinishWithoutDone_CompletesNormally()
    {
        // Given a server that closes after the finish chunk without [DONE]
        var pieces = OpenAIWire.SseWithoutDone(OpenAIWire.Chunk("""{"content":"ok"}"""), OpenAIWire.Chunk("{}", "stop"));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal("ok", updates.ToChatResponse().Text);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsWithoutDoneOrFinishAfterText_ThrowsTruncatedStream()
    {
        // Given
        var pieces = OpenAIWire.SseWithoutDone(OpenAIWire.Chunk("""{"content":"Half an"}"""), OpenAIWire.Chunk("""{"content":" answer"}"""));
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        var seen = new List<ChatResponseUpdate>();

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client, seen));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Half an answer", exception.PartialText);
        Assert.Equal("openai", exception.Provider);
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsBeforeAnyPiece_ThrowsServerError()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, [": keep-alive\n\n"]), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConnectionResetMidStream_ThrowsTruncatedStream()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await OpenAIWire.WriteSseAsync(c, OpenAIWire.SseWithoutDone(OpenAIWire.Chunk("""{"content":"Partial"}""")));
                await Task.Delay(100, c.RequestAborted);
                c.Abort();
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Partial", exception.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InBandErrorBeforeFirstPiece_ThrowsClassifiedError()
    {
        // Given
        var pieces = OpenAIWire.SseWithoutDone(
            """{"error":{"message":"Rate limit reached for gpt-4o. Please try again in 20s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.RateLimit, exception.Kind);
        Assert.Equal("rate_limit_exceeded", exception.ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(20), exception.RetryAfter);
        Assert.Contains("Rate limit reached", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InBandErrorAfterFirstPiece_ThrowsTruncatedStreamWithPartialText()
    {
        // Given OpenRouter's shape: an upstream failure as an error chunk in the middle of the stream
        var pieces = OpenAIWire.SseWithoutDone(
            OpenAIWire.Chunk("""{"content":"The answer is"}"""),
            """{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"x","error":{"code":502,"message":"Upstream provider overloaded"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteSseAsync(c, pieces), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "openrouter" });

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("The answer is", exception.PartialText);
        Assert.Contains("Upstream provider overloaded", exception.Message, StringComparison.Ordinal);
        Assert.Equal(ProviderErrorKind.ServerError, Assert.IsType<ProviderException>(exception.InnerException).Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ServerAnswersWithJsonBody_YieldsTheWholeAnswer()
    {
        // Given a server that ignores "stream": true
        var body = OpenAIWire.Completion("""{"role":"assistant","content":"Whole"}""");
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, body), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var response = (await CollectAsync(client)).ToChatResponse();

        // Then
        Assert.Equal("Whole", response.Text);
        Assert.Equal(15, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancels_PropagatesOperationCanceled()
    {
        // Given
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await OpenAIWire.WriteSseAsync(c, OpenAIWire.SseWithoutDone(OpenAIWire.Chunk("""{"content":"a"}""")));
                await Task.Delay(Timeout.Infinite, c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            },
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        var exception = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: cancellation.Token))
            {
                await cancellation.CancelAsync();
            }
        });

        // Then
        Assert.IsNotType<ProviderException>(exception);
    }

    private static async Task<List<ChatResponseUpdate>> CollectAsync(IChatClient client, List<ChatResponseUpdate>? into = null)
    {
        var updates = into ?? [];
        await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        return updates;
    }
}
