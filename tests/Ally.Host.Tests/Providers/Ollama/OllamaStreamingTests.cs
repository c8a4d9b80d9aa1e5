using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Ollama;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Ollama;

public sealed class OllamaStreamingTests
{
    [Fact]
    public async Task GetStreamingResponseAsync_FirstLine_ArrivesWhileServerHoldsTheRest()
    {
        // Given: the server sends one line, then waits until the test has seen it.
        var ct = TestContext.Current.CancellationToken;
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            await OllamaWire.NdjsonAsync(context, OllamaWire.Chunk("Hello"));
            await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
            await LoopbackServer.WritePiecesAsync(context, [OllamaWire.Chunk(" world") + "\n", OllamaWire.Done("stop", 11, 2) + "\n"]);
        }, ct);
        using var client = OllamaWire.Client(server);

        // When
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct))
        {
            updates.Add(update);
            firstSeen.TrySetResult();
        }

        // Then
        Assert.Equal("Hello", updates[0].Text);
        Assert.Null(updates[0].FinishReason);
        var response = updates.ToChatResponse();
        Assert.Equal("Hello world", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("llama3.1", response.ModelId);
        Assert.Single(response.Messages);
        Assert.Equal(11, response.Usage!.InputTokenCount);
        Assert.Equal(2, response.Usage.OutputTokenCount);
        Assert.Equal(13, response.Usage.TotalTokenCount);
        Assert.Equal(11912402900, response.Usage.AdditionalCounts!["total_duration"]);
        var last = updates[^1];
        Assert.Single(last.Contents.OfType<UsageContent>());
        Assert.Equal(ChatFinishReason.Stop, last.FinishReason);
        Assert.All(updates, u => Assert.Equal(updates[0].ResponseId, u.ResponseId));
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));

        var body = OllamaWire.Body(server);
        Assert.True((bool)body["stream"]!);
        Assert.Equal("/api/chat", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ThinkingThenAnswer_KeepsReasoningApart()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context,
            """{"model":"qwen3","created_at":"2025-05-29T09:35:56.836222Z","message":{"role":"assistant","content":"","thinking":"Let me add."},"done":false}""",
            """{"model":"qwen3","created_at":"2025-05-29T09:35:56.936222Z","message":{"role":"assistant","content":"","thinking":" 2+2=4."},"done":false}""",
            """{"model":"qwen3","created_at":"2025-05-29T09:35:57.036222Z","message":{"role":"assistant","content":"4"},"done":false}""",
            """{"model":"qwen3","created_at":"2025-05-29T09:35:57.136222Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"prompt_eval_count":18,"eval_count":12}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "2+2?")], cancellationToken: ct).ToChatResponseAsync(ct);

        // Then
        Assert.Equal("4", response.Text);
        var reasoning = string.Concat(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>().Select(r => r.Text));
        Assert.Equal("Let me add. 2+2=4.", reasoning);
        Assert.Equal(30, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ParallelToolCallsWithoutIds_EmitsEachCallOnceAndFinishesToolCalls()
    {
        // Given: tool calls arrive whole, in a done:false line, with done_reason stop at the end.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context,
            """{"model":"llama3.2","created_at":"2025-07-07T20:22:19.184789Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}""",
            """{"model":"llama3.2","created_at":"2025-07-07T20:22:19.188789Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}""",
            """{"model":"llama3.2","created_at":"2025-07-07T20:22:19.19314Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"prompt_eval_count":169,"eval_count":15}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "weather?")], new ChatOptions { Tools = [OllamaChatClientTests.WeatherTool()] }, ct))
        {
            updates.Add(update);
        }

        // Then
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        Assert.Equal("Tokyo", ((JsonElement)calls[0].Arguments!["city"]!).GetString());
        Assert.Equal("Paris", ((JsonElement)calls[1].Arguments!["city"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Equal(ChatFinishReason.ToolCalls, updates.ToChatResponse().FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_DoneWithoutDoneReason_FinishesStop()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context,
            OllamaWire.Chunk("Hi"),
            """{"model":"llama3.1","created_at":"2024-10-01T16:15:24.251450812Z","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":3,"eval_count":1}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct).ToChatResponseAsync(ct);

        // Then
        Assert.Equal("Hi", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(4, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorLineBeforeFirstPiece_ThrowsClassifiedError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context, """{"error":"an error was encountered while running the model"}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => Drain(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct), ct));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, error.Kind);
        Assert.Contains("an error was encountered while running the model", error.Message, StringComparison.Ordinal);
        Assert.Equal("ollama", error.Provider);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ContextLengthErrorLineBeforeFirstPiece_IsContextLengthExceeded()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context, """{"error":"the input length exceeds the context length"}"""), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => Drain(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct), ct));

        // Then
        Assert.Equal(ProviderErrorKind.ContextLengthExceeded, error.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorLineAfterText_ThrowsTruncatedStreamWithPartialText()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context,
            OllamaWire.Chunk("Yes"),
            OllamaWire.Chunk(", I can"),
            """{"error":"an error was encountered while running the model"}"""), ct);
        using var client = OllamaWire.Client(server);
        var seen = new List<ChatResponseUpdate>();

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct))
            {
                seen.Add(update);
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, error.Kind);
        Assert.Equal("Yes, I can", error.PartialText);
        Assert.Contains("an error was encountered while running the model", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsWithoutDoneAfterText_ThrowsTruncatedStream()
    {
        // Given: the response closes cleanly, but the done:true line never came.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(
            context, OllamaWire.Chunk("Hello"), OllamaWire.Chunk(" there")), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => Drain(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct), ct));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, error.Kind);
        Assert.Equal("Hello there", error.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EmptyStream_ThrowsServerError()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(context => OllamaWire.NdjsonAsync(context), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => Drain(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct), ct));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, error.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConnectionResetAfterText_ThrowsTruncatedStream()
    {
        // Given: the server resets the connection once the client has the first line (earlier, the reset could
        // discard that line from the socket buffer).
        var ct = TestContext.Current.CancellationToken;
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            await OllamaWire.NdjsonAsync(context, OllamaWire.Chunk("Partial"));
            await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
            context.Abort();
        }, ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct))
            {
                firstSeen.TrySetResult();
            }
        });

        // Then
        var providerError = Assert.IsType<ProviderException>(error);
        Assert.Equal(ProviderErrorKind.TruncatedStream, providerError.Kind);
        Assert.Equal("Partial", providerError.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancelsMidStream_PropagatesCancellation()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            await OllamaWire.NdjsonAsync(context, OllamaWire.Chunk("Hello"));
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }, ct);
        using var client = OllamaWire.Client(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // When
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: cts.Token))
            {
                await cts.CancelAsync();
            }
        });

        // Then
        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_HttpErrorStatus_ThrowsBeforeAnyUpdate()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, """{"error":"model \"nope\" not found, try pulling it first"}""", 404), ct);
        using var client = OllamaWire.Client(server, model: "nope");

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => Drain(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct), ct));

        // Then
        Assert.Equal(ProviderErrorKind.NotFound, error.Kind);
        Assert.Equal(404, error.StatusCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_TimeoutElapsesAfterHeaders_DoesNotCutTheStream()
    {
        // Given: headers and a first line arrive, then the whole timeout elapses before the rest.
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var timeElapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            await OllamaWire.NdjsonAsync(context, OllamaWire.Chunk("slow"));
            await timeElapsed.Task.WaitAsync(TimeSpan.FromSeconds(20), context.RequestAborted);
            await LoopbackServer.WritePiecesAsync(context, [OllamaWire.Done() + "\n"]);
        }, ct);
        using var client = new OllamaChatClient(
            new ProviderSettings { Name = "ollama", Model = "llama3.1", BaseUrl = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) },
            time);

        // When
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct))
        {
            updates.Add(update);
            time.Advance(TimeSpan.FromMinutes(1));
            timeElapsed.TrySetResult();
        }

        // Then
        Assert.Equal("slow", updates.ToChatResponse().Text);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_TimeoutElapsesBeforeHeaders_ThrowsTimeout()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }, ct);
        using var client = new OllamaChatClient(
            new ProviderSettings { Name = "ollama", Model = "llama3.1", BaseUrl = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) },
            time);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => Drain(client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct), ct));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, error.Kind);
        Assert.Contains("5 s", error.Message, StringComparison.Ordinal);
    }

    private static async Task Drain(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        await foreach (var _ in updates.WithCancellation(cancellationToken))
        {
        }
    }
}
