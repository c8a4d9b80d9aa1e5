using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere.Tests;

public sealed class CohereStreamingTests
{
    private static readonly TimeSpan GateLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GetStreamingResponseAsync_FirstPiece_ArrivesWhileServerHoldsTheRest()
    {
        // Given a server that sends the first piece, then waits until the test has seen it
        var ct = TestContext.Current.CancellationToken;
        var firstPieceSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.ContentStart(), CohereWire.ContentDelta("Hel"));
                await firstPieceSeen.Task.WaitAsync(GateLimit, c.RequestAborted);
                await LoopbackServer.WritePiecesAsync(c, [CohereWire.ContentDelta("lo \\\"world\\\""), CohereWire.ContentEnd(), CohereWire.MessageEnd(billedIn: 11, billedOut: 3)]);
            },
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct))
        {
            updates.Add(update);
            if (update.Text.Length > 0)
            {
                firstPieceSeen.TrySetResult();
            }
        }

        // Then the pieces arrive one by one, with ids, finish reason and usage on the last
        Assert.Equal(["Hel", "lo \"world\""], updates.Where(u => u.Text.Length > 0).Select(u => u.Text));
        Assert.All(updates, u => Assert.Equal("29f14a5a-11de-4cae-9800-25e4747408ea", u.ResponseId));
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.All(updates, u => Assert.Equal("command-a-03-2025", u.ModelId));
        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Stop, last.FinishReason);
        var usage = Assert.Single(last.Contents.OfType<UsageContent>()).Details;
        Assert.Equal(11, usage.InputTokenCount);
        Assert.Equal(3, usage.OutputTokenCount);
        Assert.Equal(14, usage.TotalTokenCount);

        var response = updates.ToChatResponse();
        Assert.Equal("Hello \"world\"", response.Text);
        Assert.Equal(11, response.Usage?.InputTokenCount);

        // And the request asked for a stream
        var body = JsonNode.Parse(server.LastRequest.Body)!;
        Assert.True((bool)body["stream"]!);
        Assert.Equal("text/event-stream", server.LastRequest.Headers["Accept"]);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolCallFragments_EmitsEachCallOnceWhenComplete()
    {
        // Given a stream with a tool plan and two calls whose arguments arrive in fragments (the first one empty)
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteSseAsync(
                c,
                CohereWire.MessageStart("tool-stream"),
                CohereWire.Event("tool-plan-delta", """{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will check "}}}"""),
                CohereWire.Event("tool-plan-delta", """{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"both cities."}}}"""),
                CohereWire.Event("tool-call-start", """{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"get_weather_nsz5zm3w56q3","type":"function","function":{"name":"get_weather","arguments":""}}}}}"""),
                CohereWire.Event("tool-call-delta", """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\n    \""}}}}}"""),
                CohereWire.Event("tool-call-delta", """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"location\": \"Tor"}}}}}"""),
                CohereWire.Event("tool-call-delta", """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"onto\"\n}"}}}}}"""),
                CohereWire.Event("tool-call-end", """{"type":"tool-call-end","index":0}"""),
                CohereWire.Event("tool-call-start", """{"type":"tool-call-start","index":1,"delta":{"message":{"tool_calls":{"id":"get_weather_h3k9","type":"function","function":{"name":"get_weather","arguments":""}}}}}"""),
                CohereWire.Event("tool-call-delta", """{"type":"tool-call-delta","index":1,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\"location\": \"Paris\"}"}}}}}"""),
                CohereWire.Event("tool-call-end", """{"type":"tool-call-end","index":1}"""),
                CohereWire.MessageEnd("TOOL_CALL", billedIn: 30, billedOut: 20)),
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], new ChatOptions { Tools = [AIFunctionFactory.Create((string location) => location, "get_weather")] }, ct))
        {
            updates.Add(update);
        }

        // Then the plan is reasoning, each call comes once with its whole arguments, and the finish reason is ToolCalls
        Assert.Equal("I will check both cities.", string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
        Assert.Equal(string.Empty, string.Concat(updates.Select(u => u.Text)));
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("get_weather_nsz5zm3w56q3", calls[0].CallId);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("Toronto", ((JsonElement)calls[0].Arguments!["location"]!).GetString());
        Assert.Equal("get_weather_h3k9", calls[1].CallId);
        Assert.Equal("Paris", ((JsonElement)calls[1].Arguments!["location"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Equal(30, Assert.Single(updates[^1].Contents.OfType<UsageContent>()).Details.InputTokenCount);
        Assert.Equal(ChatFinishReason.ToolCalls, updates.ToChatResponse().FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ToolCallWithoutEnd_IsEmittedAtMessageEnd()
    {
        // Given a stream whose tool-call-end never comes
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteSseAsync(
                c,
                CohereWire.MessageStart(),
                CohereWire.Event("tool-call-start", """{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"c1","type":"function","function":{"name":"now","arguments":""}}}}}"""),
                CohereWire.MessageEnd("COMPLETE")),
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Time?")], cancellationToken: ct))
        {
            updates.Add(update);
        }

        // Then the call still comes out, with empty arguments, and the finish reason follows the calls
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("now", call.Name);
        Assert.Empty(call.Arguments!);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CrLfAndNoFinalBlankLine_StillParsed()
    {
        // Given a stream framed with \r\n whose last event has no closing blank line
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await CohereWire.StartSseAsync(c);
                var pieces = new[] { CohereWire.MessageStart(), CohereWire.ContentDelta("Hi"), CohereWire.MessageEnd("MAX_TOKENS") }
                    .Select(p => p.Replace("\n", "\r\n", StringComparison.Ordinal)).ToArray();
                pieces[^1] = pieces[^1].TrimEnd();
                await LoopbackServer.WritePiecesAsync(c, pieces);
            },
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct))
        {
            updates.Add(update);
        }

        // Then the last event is not lost
        Assert.Equal("Hi", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsWithoutMessageEndAfterPieces_ThrowsTruncatedStream()
    {
        // Given a stream that stops after some text, without message-end
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.ContentDelta("Partial "), CohereWire.ContentDelta("answer")),
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then the failure is a truncated stream with the text so far
        Assert.Equal(2, pieces);
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Partial answer", exception.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsBeforeAnyPiece_ThrowsServerError()
    {
        // Given a stream that stops right after message-start
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteSseAsync(c, CohereWire.MessageStart()), ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then nothing was handed out and it is a server failure
        Assert.Equal(0, pieces);
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConnectionResetAfterPieces_ThrowsTruncatedStream()
    {
        // Given a server that aborts the connection after the first piece
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.ContentDelta("Half"));
                await Task.Delay(50, c.RequestAborted);
                c.Abort();
            },
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then it is a truncated stream keeping the text
        Assert.Equal(1, pieces);
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Half", exception.PartialText);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("event: error\ndata: {\"message\":\"internal server error\"}\n\n")]
    [InlineData("data: {\"id\":\"e1\",\"message\":\"internal server error\"}\n\n")]
    public async Task GetStreamingResponseAsync_InBandErrorBeforeAnyPiece_ThrowsClassifiedError(string errorEvent)
    {
        // Given a 200 stream whose first real event is an error
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), errorEvent), ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then the error is classified with the provider's words
        Assert.Equal(0, pieces);
        Assert.Equal(ProviderErrorKind.ServerError, exception.Kind);
        Assert.Contains("internal server error", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InBandErrorAfterPieces_ThrowsTruncatedStream()
    {
        // Given a stream that breaks off with an error event after some text
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.ContentDelta("Some"), "event: error\ndata: {\"message\":\"stream failed\"}\n\n"),
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then it is a truncated stream that names the cause
        Assert.Equal(1, pieces);
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Some", exception.PartialText);
        Assert.Contains("stream failed", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ERROR", ProviderErrorKind.ServerError)]
    [InlineData("TIMEOUT", ProviderErrorKind.Timeout)]
    public async Task GetStreamingResponseAsync_FailedFinishBeforeAnyPiece_ThrowsClassifiedError(string finishReason, ProviderErrorKind expected)
    {
        // Given a stream that ends at once with a failed finish reason
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.MessageEnd(finishReason)), ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then the failure is classified
        Assert.Equal(0, pieces);
        Assert.Equal(expected, exception.Kind);
        Assert.Equal(finishReason, exception.ErrorCode);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FailedFinishAfterPieces_ThrowsTruncatedStream()
    {
        // Given a stream that ends with ERROR after some text
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.ContentDelta("Almost"), CohereWire.MessageEnd("ERROR")),
            ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then it is a truncated stream keeping the text
        Assert.Equal(1, pieces);
        Assert.Equal(ProviderErrorKind.TruncatedStream, exception.Kind);
        Assert.Equal("Almost", exception.PartialText);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ErrorStatus_ThrowsBeforeAnyPiece()
    {
        // Given a streaming request refused with 401
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, """{"id":"x","message":"invalid api token"}""", 401), ct);
        using var client = CohereWire.Client(server);

        // When the client streams
        var (pieces, exception) = await CollectUntilFailureAsync(client, ct);

        // Then it is an authentication failure without the key
        Assert.Equal(0, pieces);
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
        Assert.Equal(401, exception.StatusCode);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SlowerThanTimeoutAfterHeaders_Completes()
    {
        // Given a short timeout and a stream that pauses longer than it after the headers
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                await CohereWire.WriteSseAsync(c, CohereWire.MessageStart(), CohereWire.ContentDelta("Slow"));
                await Task.Delay(TimeSpan.FromMilliseconds(600), c.RequestAborted);
                await LoopbackServer.WritePiecesAsync(c, [CohereWire.ContentDelta(" but sure"), CohereWire.MessageEnd()]);
            },
            ct);
        using var client = CohereWire.Client(server, timeout: TimeSpan.FromMilliseconds(200));

        // When the client streams
        var text = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct))
        {
            text.Add(update.Text);
        }

        // Then the timeout only bounded the wait for the headers
        Assert.Equal("Slow but sure", string.Concat(text));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_NoHeadersWithinTimeout_ThrowsTimeout()
    {
        // Given a server that never sends headers
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => Task.Delay(Timeout.Infinite, c.RequestAborted), ct);
        using var client = CohereWire.Client(server, timeout: TimeSpan.FromMilliseconds(300));

        // When the client streams
        var (_, exception) = await CollectUntilFailureAsync(client, ct);

        // Then it is a timeout
        Assert.Equal(ProviderErrorKind.Timeout, exception.Kind);
    }

    private static async Task<(int Pieces, ProviderException Exception)> CollectUntilFailureAsync(IChatClient client, CancellationToken cancellationToken)
    {
        var pieces = 0;
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cancellationToken))
            {
                pieces += update.Contents.Count > 0 ? 1 : 0;
            }
        }
        catch (ProviderException exception)
        {
            return (pieces, exception);
        }

        throw new Xunit.Sdk.XunitException("The stream completed without the expected failure.");
    }
}
