using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Anthropic;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Anthropic;

public sealed class AnthropicStreamingTests
{
    private static readonly TimeSpan GateTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task GetStreamingResponseAsync_Text_FirstPieceArrivesWhileServerHoldsTheRest()
    {
        // Given
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.StartSse(ctx);
                await LoopbackServer.WritePiecesAsync(ctx, [AnthropicWire.MessageStart(input: 25, output: 1), AnthropicWire.TextStart(), AnthropicWire.Ping(), AnthropicWire.TextDelta("Hello")]);
                await firstSeen.Task.WaitAsync(GateTimeout, ctx.RequestAborted);
                await LoopbackServer.WritePiecesAsync(ctx, [AnthropicWire.TextDelta(" world"), AnthropicWire.BlockStop(), AnthropicWire.MessageDelta("end_turn", 15), AnthropicWire.MessageStop()]);
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
            if (update.Text.Length > 0)
            {
                firstSeen.TrySetResult();
            }
        }

        // Then
        Assert.Equal("Hello world", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal("Hello", updates.First(u => u.Text.Length > 0).Text);
        Assert.All(updates, u => Assert.Equal("msg_01", u.ResponseId));
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.Equal("claude-sonnet-4-5-20250929", updates[0].ModelId);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(25, usage.InputTokenCount);
        Assert.Equal(15, usage.OutputTokenCount);
        Assert.Equal(40, usage.TotalTokenCount);
        var response = updates.ToChatResponse();
        Assert.Equal("Hello world", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CumulativeUsageInMessageDelta_OverwrittenNotAdded()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(input: 100, output: 2, cacheRead: 50, cacheCreation: 10),
            AnthropicWire.TextStart(),
            AnthropicWire.TextDelta("ok"),
            AnthropicWire.BlockStop(),
            AnthropicWire.MessageDelta("end_turn", 30, "\"input_tokens\":100,\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":50,"),
            AnthropicWire.MessageStop());
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(160, usage.InputTokenCount);
        Assert.Equal(50, usage.CachedInputTokenCount);
        Assert.Equal(30, usage.OutputTokenCount);
        Assert.Equal(190, usage.TotalTokenCount);
        Assert.Equal(10, usage.AdditionalCounts![AnthropicUsage.CacheCreationKey]);
        Assert.Equal(100, usage.AdditionalCounts[AnthropicUsage.UncachedInputKey]);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ParallelToolUseFragments_EachCallEmittedOnceWhenComplete()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.TextStart(),
            AnthropicWire.TextDelta("Checking both."),
            AnthropicWire.BlockStop(),
            AnthropicWire.ToolStart(1, "toolu_A", "get_weather"),
            AnthropicWire.JsonDelta(1, string.Empty),
            AnthropicWire.JsonDelta(1, "{\"city\": \"Pa"),
            AnthropicWire.JsonDelta(1, "ris\"}"),
            AnthropicWire.BlockStop(1),
            AnthropicWire.ToolStart(2, "toolu_B", "get_weather"),
            AnthropicWire.JsonDelta(2, "{\"city\":\"Rome\",\"days\":"),
            AnthropicWire.JsonDelta(2, "3}"),
            AnthropicWire.BlockStop(2),
            AnthropicWire.MessageDelta("tool_use", 80),
            AnthropicWire.MessageStop());
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("toolu_A", calls[0].CallId);
        Assert.Equal("Paris", ((JsonElement)calls[0].Arguments!["city"]!).GetString());
        Assert.Equal("toolu_B", calls[1].CallId);
        Assert.Equal(3, ((JsonElement)calls[1].Arguments!["days"]!).GetInt32());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Equal("Checking both.", string.Concat(updates.Select(u => u.Text)));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolUseWithoutArguments_GetsEmptyArguments()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.ToolStart(0, "toolu_N", "now"),
            AnthropicWire.JsonDelta(0, string.Empty),
            AnthropicWire.BlockStop(0),
            AnthropicWire.MessageDelta("tool_use", 10),
            AnthropicWire.MessageStop());
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("now", call.Name);
        Assert.NotNull(call.Arguments);
        Assert.Empty(call.Arguments);
        Assert.Null(call.Exception);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Thinking_StreamedAsReasoningWithSignatureNotText()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"""),
            AnthropicWire.Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}"""),
            AnthropicWire.Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" step by step."}}"""),
            AnthropicWire.Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"""),
            AnthropicWire.BlockStop(0),
            AnthropicWire.TextStart(1),
            AnthropicWire.TextDelta("The answer is 4.", 1),
            AnthropicWire.BlockStop(1),
            AnthropicWire.MessageDelta("end_turn", 40),
            AnthropicWire.MessageStop());
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal("The answer is 4.", string.Concat(updates.Select(u => u.Text)));
        var reasoning = updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().ToList();
        Assert.Equal("Let me think step by step.", string.Concat(reasoning.Select(r => r.Text)));
        Assert.Contains(reasoning, r => r.ProtectedData == "EqQBCgIYAhIM");
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ThinkingThenToolUse_RoundTripsThinkingBlocksInNextRequest()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"""),
            AnthropicWire.Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"I need"}}"""),
            AnthropicWire.Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" the tool."}}"""),
            AnthropicWire.Event("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig-1"}}"""),
            AnthropicWire.BlockStop(0),
            AnthropicWire.Event("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"opaque-2"}}"""),
            AnthropicWire.BlockStop(1),
            AnthropicWire.ToolStart(2, "toolu_T", "calc"),
            AnthropicWire.JsonDelta(2, "{\"x\":1}"),
            AnthropicWire.BlockStop(2),
            AnthropicWire.MessageDelta("tool_use", 20),
            AnthropicWire.MessageStop());
        using var client = AnthropicWire.Client(server);
        List<ChatMessage> history = [new(ChatRole.User, "compute")];
        var updates = await CollectAsync(client);
        history.AddRange(updates.ToChatResponse().Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("toolu_T", "1")]));

        // When
        await CollectAsync(client, history: history);

        // Then
        var assistant = AnthropicWire.Body(server.LastRequest).GetProperty("messages")[1].GetProperty("content");
        Assert.Equal(["thinking", "redacted_thinking", "tool_use"], assistant.EnumerateArray().Select(b => b.GetProperty("type").GetString()));
        Assert.Equal("I need the tool.", assistant[0].GetProperty("thinking").GetString());
        Assert.Equal("sig-1", assistant[0].GetProperty("signature").GetString());
        Assert.Equal("opaque-2", assistant[1].GetProperty("data").GetString());
    }

    [Fact]
    public async Task GetStreamingResponseAsync_JsonSchemaFormat_StreamsToolInputAsAnswerText()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.ToolStart(0, "toolu_S", "person"),
            AnthropicWire.JsonDelta(0, string.Empty),
            AnthropicWire.JsonDelta(0, "{\"name\":"),
            AnthropicWire.JsonDelta(0, "\"Ada\"}"),
            AnthropicWire.BlockStop(0),
            AnthropicWire.MessageDelta("tool_use", 12),
            AnthropicWire.MessageStop());
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonElement.Parse("""{"type":"object","properties":{"name":{"type":"string"}}}"""), "person") };

        // When
        var updates = await CollectAsync(client, options);

        // Then
        Assert.Equal("{\"name\":\"Ada\"}", string.Concat(updates.Select(u => u.Text)));
        Assert.Empty(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_PaddedJsonAndNoFinalBlankLine_LastEventStillRead()
    {
        // Given
        await using var server = await StartSseServerAsync(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_P\",\"model\":\"claude-3-7-sonnet-20250219\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}      }\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}       }\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Padded\"}        }\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0     }\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}        }\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"       }");
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal("Padded", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorEventBeforeFirstPiece_ThrowsOverloaded()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.Event("error", """{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"""));
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, ex.Kind);
        Assert.Equal("overloaded_error", ex.ErrorCode);
        Assert.Equal("anthropic", ex.Provider);
        Assert.Equal("Overloaded", ex.Message);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorEventAfterFirstPiece_ThrowsTruncatedWithPartialText()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.TextStart(),
            AnthropicWire.TextDelta("Hello"),
            AnthropicWire.TextDelta(", wor"),
            AnthropicWire.Event("error", """{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"""));
        using var client = AnthropicWire.Client(server);
        var seen = new List<string>();

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
            {
                seen.Add(update.Text);
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, ex.Kind);
        Assert.Equal("Hello, wor", ex.PartialText);
        Assert.Equal("Hello, wor", string.Concat(seen));
        Assert.Contains("Overloaded", ex.Message, StringComparison.Ordinal);
        Assert.Equal("overloaded_error", ex.ErrorCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamEndsWithoutMessageStopAfterContent_ThrowsTruncated()
    {
        // Given
        await using var server = await StartSseServerAsync(
            AnthropicWire.MessageStart(),
            AnthropicWire.TextStart(),
            AnthropicWire.TextDelta("Half an ans"));
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, ex.Kind);
        Assert.Equal("Half an ans", ex.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamEndsBeforeAnyContent_ThrowsServerError()
    {
        // Given
        await using var server = await StartSseServerAsync(AnthropicWire.MessageStart(), AnthropicWire.Ping());
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.ServerError, ex.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConnectionResetMidStream_ThrowsTruncated()
    {
        // Given
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.StartSse(ctx);
                await LoopbackServer.WritePiecesAsync(ctx, [AnthropicWire.MessageStart(), AnthropicWire.TextStart(), AnthropicWire.TextDelta("Partial")]);

                // Reset only once the client has read the piece: a reset discards data still unread in its buffers.
                await firstSeen.Task.WaitAsync(GateTimeout, ctx.RequestAborted);
                ctx.Abort();
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
            {
                firstSeen.TrySetResult();
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, ex.Kind);
        Assert.Equal("Partial", ex.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_HttpErrorBeforeStream_ThrowsClassified()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            ctx => AnthropicWire.WriteJsonAsync(ctx, 529, AnthropicWire.Error("overloaded_error", "Overloaded")),
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var ex = await Assert.ThrowsAsync<ProviderException>(() => CollectAsync(client));

        // Then
        Assert.Equal(ProviderErrorKind.Overloaded, ex.Kind);
        Assert.Equal(529, ex.StatusCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancels_OperationCanceledPropagates()
    {
        // Given
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.StartSse(ctx);
                await LoopbackServer.WritePiecesAsync(ctx, [AnthropicWire.MessageStart(), AnthropicWire.TextStart(), AnthropicWire.TextDelta("first")]);
                await release.Task.WaitAsync(GateTimeout, ctx.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        // When
        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cts.Token))
            {
                await cts.CancelAsync();
            }
        });
        release.TrySetResult();

        // Then
        Assert.IsAssignableFrom<OperationCanceledException>(ex);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_JsonAnswerToStreamedRequest_ReturnedAsUpdates()
    {
        // Given
        var body = AnthropicWire.Message("""[{"type":"text","text":"whole"}]""");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, body), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var updates = await CollectAsync(client);

        // Then
        Assert.Equal("whole", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates.ToChatResponse().FinishReason);
    }

    internal static async Task<List<ChatResponseUpdate>> CollectAsync(AnthropicChatClient client, ChatOptions? options = null, IEnumerable<ChatMessage>? history = null)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(history ?? [new ChatMessage(ChatRole.User, "Hi")], options, TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        return updates;
    }

    private static Task<LoopbackServer> StartSseServerAsync(params string[] pieces) =>
        LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.StartSse(ctx);
                await LoopbackServer.WritePiecesAsync(ctx, pieces);
            },
            TestContext.Current.CancellationToken);
}
