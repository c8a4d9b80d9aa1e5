using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Gemini;

public sealed class GeminiStreamingTests
{
    private const string Usage = """
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 4, "thoughtsTokenCount": 3, "cachedContentTokenCount": 2, "totalTokenCount": 14}
        """;

    [Fact]
    public async Task GetStreamingResponseAsync_FirstChunk_ArrivesWhileServerHoldsTheRest()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [GeminiWire.Sse("""{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"responseId":"s-1","modelVersion":"gemini-2.0-flash-001"}""")]);
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
                await LoopbackServer.WritePiecesAsync(context, [GeminiWire.Sse("""{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP"}],"responseId":"s-1","modelVersion":"gemini-2.0-flash-001"}""")]);
            },
            ct);
        using var client = GeminiWire.NewClient(server);
        var updates = new List<ChatResponseUpdate>();

        // When
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct))
        {
            if (updates.Count == 0)
            {
                Assert.Equal("Hel", update.Text);
                gate.SetResult();
            }

            updates.Add(update);
        }

        // Then
        Assert.True(gate.Task.IsCompleted);
        Assert.Equal("Hello", GeminiWire.Text(updates));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.All(updates, u => Assert.Equal("s-1", u.ResponseId));
        Assert.All(updates, u => Assert.Equal("gemini-2.0-flash-001", u.ModelId));
        Assert.Single(updates.Select(u => u.MessageId).Distinct());
        Assert.Equal("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", server.LastRequest.PathAndQuery);
        Assert.Equal(GeminiWire.ApiKey, server.LastRequest.Headers["x-goog-api-key"]);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CumulativeUsage_ReportsOnlyTheLast()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse(
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"A"}]}}],"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"B"}]},"finishReason":"STOP"}],""" + Usage + "}");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        var usages = updates.SelectMany(u => u.Contents).OfType<UsageContent>().ToList();
        var usage = Assert.Single(usages).Details;
        Assert.Equal(7, usage.InputTokenCount);
        Assert.Equal(7, usage.OutputTokenCount);
        Assert.Equal(3, usage.ReasoningTokenCount);
        Assert.Equal(2, usage.CachedInputTokenCount);
        Assert.Equal(14, usage.TotalTokenCount);
        Assert.NotNull(updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolUsePromptTokens_CountAsInput()
    {
        // Given: cumulative usage whose last chunk reports 300 tokens of built-in tool results
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse(
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"A"}]}}],"usageMetadata":{"promptTokenCount":12,"totalTokenCount":12}}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"B"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":5,"toolUsePromptTokenCount":300,"totalTokenCount":317}}""");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(312, usage.InputTokenCount);
        Assert.Equal(5, usage.OutputTokenCount);
        Assert.Equal(317, usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ThoughtParts_StayApartFromAnswerText()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse(
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"Thinking about it.","thought":true}]}}]}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"Answer."}]},"finishReason":"STOP"}]}""");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal("Answer.", GeminiWire.Text(updates));
        var reasoning = Assert.Single(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>());
        Assert.Equal("Thinking about it.", reasoning.Text);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ParallelFunctionCalls_EmitsEachOnceWithUniqueIdsAndToolCallsFinish()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse(
            """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"}]}}]}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"weather","args":{"city":"Rome"}}}]}}]}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP"}]}""");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], cancellationToken: ct));

        // Then
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        Assert.Equal("Paris", ((JsonElement)calls[0].Arguments!["city"]!).GetString());
        Assert.Equal("c2ln", calls[0].AdditionalProperties!["thoughtSignature"]);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Empty(GeminiWire.Text(updates));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EmptyChunksAndLfFraming_AreSkipped()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string Body = "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"x\"}]}}]}\n\n" +
            "data: {}\n\n" +
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\"}}]}\n\n" +
            ": keep-alive\n\n" +
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"y\"}]},\"finishReason\":\"MAX_TOKENS\"}]}";
        await using var server = await GeminiWire.StartSseAsync(Body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal("xy", GeminiWire.Text(updates));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsWithoutFinishReasonAfterText_ThrowsTruncatedStreamWithPartialText()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse(
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"Half "}]}}]}""",
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"an answer"}]}}]}""");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);
        var updates = new List<ChatResponseUpdate>();

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct))
            {
                updates.Add(update);
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Half an answer", exception.PartialText);
        Assert.Equal("Half an answer", GeminiWire.Text(updates));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EmptyStream_ThrowsServerError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartSseAsync(string.Empty, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InBandErrorBeforeAnyPiece_ThrowsClassifiedError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.") + "\n";
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, exception.Kind);
        Assert.Equal("The model is overloaded. Please try again later.", exception.Message);
        Assert.Equal("UNAVAILABLE", exception.ErrorCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InBandDataErrorAfterPieces_ThrowsTruncatedStreamNamingTheError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse(
            """{"candidates":[{"content":{"role":"model","parts":[{"text":"Partial"}]}}]}""",
            """{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}""");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Partial", exception.PartialText);
        Assert.Contains("An internal error has occurred.", exception.Message, StringComparison.Ordinal);
        Assert.Equal(ProviderErrorKind.ServerError, Assert.IsType<ProviderException>(exception.InnerException).Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_BlockedPrompt_ThrowsContentFilter()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var body = GeminiWire.Sse("""{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3}}""");
        await using var server = await GeminiWire.StartSseAsync(body, ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.ContentFilter, exception.Kind);
        Assert.Contains("SAFETY", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConnectionResetAfterPieces_ThrowsTruncatedStream()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [GeminiWire.Sse("""{"candidates":[{"content":{"role":"model","parts":[{"text":"Cut"}]}}]}""")]);
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
                context.Abort();
            },
            ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct))
            {
                gate.TrySetResult();
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Cut", exception.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_HttpError_ThrowsClassifiedErrorBeforeAnyUpdate()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.Error(404, "NOT_FOUND", "models/nope is not found."), 404, ct);
        using var client = GeminiWire.NewClient(server, model: "nope");

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.NotFound, exception.Kind);
        Assert.Equal(404, exception.StatusCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_NoHeadersWithinTimeout_ThrowsTimeout()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted), ct);
        using var client = GeminiWire.NewClient(server, timeout: TimeSpan.FromMilliseconds(300));

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct)));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, exception.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SlowStreamAfterHeaders_IsNotCutByTheHeaderTimeout()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(TimeSpan.FromMilliseconds(600), context.RequestAborted);
                await context.Response.WriteAsync(GeminiWire.Sse("""{"candidates":[{"content":{"role":"model","parts":[{"text":"late"}]},"finishReason":"STOP"}]}"""), context.RequestAborted);
            },
            ct);
        using var client = GeminiWire.NewClient(server, timeout: TimeSpan.FromMilliseconds(200));

        // When
        var updates = await GeminiWire.CollectAsync(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal("late", GeminiWire.Text(updates));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancels_PropagatesOperationCanceled()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [GeminiWire.Sse("""{"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]}}]}""")]);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            },
            ct);
        using var client = GeminiWire.NewClient(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // When / Then
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cts.Token))
            {
                await cts.CancelAsync();
            }
        });
    }
}
