using System.ClientModel;
using System.Net;
using System.Text;
using Ally.Host.Tests.Fakes;
using Ally.Host.Gateway;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

public sealed class GatewayStreamingTests
{
    private static string Chunk(string delta, string? finish = null) =>
        $$"""data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{(finish is null ? "null" : $"\"{finish}\"")}}}]}""" + "\n\n";

    [Fact]
    public async Task CompleteChatStreaming_FirstPiece_ReachesTheClientWhileTheProviderHoldsTheRest()
    {
        // Given a provider that sends one piece and waits until the client has seen it
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [Chunk("""{"role":"assistant","content":"Hel"}""")]);
                await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
                await LoopbackServer.WritePiecesAsync(context, [Chunk("""{"content":"lo"}"""), Chunk("{}", "stop"), "data: [DONE]\n\n"]);
            },
            cancellationToken: TestContext.Current.CancellationToken);
        var text = new StringBuilder();

        // When
        await foreach (var update in gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                if (text.ToString() == "Hel")
                {
                    firstSeen.TrySetResult();
                }
            }
        }

        // Then
        Assert.True(firstSeen.Task.IsCompleted);
        Assert.Equal("Hello", text.ToString());
    }

    [Fact]
    public async Task ChatCompletions_PiecesArrivedTogether_FirstLeavesBeforeTheNextIsHandedOver()
    {
        // Given a provider client whose second piece came with the first but is handed over (at once, without an
        // await) only when the client has seen the first: a gateway that read on before sending would wait 10 s
        using var firstSeen = new ManualResetEventSlim();
        var handedOverAfterItWasSeen = false;
        async IAsyncEnumerable<ChatResponseUpdate> Pieces()
        {
            await Task.CompletedTask;
            yield return new ChatResponseUpdate(ChatRole.Assistant, "Hel");
            handedOverAfterItWasSeen = firstSeen.Wait(TimeSpan.FromSeconds(10));
            yield return new ChatResponseUpdate(ChatRole.Assistant, "lo") { FinishReason = Microsoft.Extensions.AI.ChatFinishReason.Stop };
        }

        var provider = new TestChatClient("oai") { GetStreamingResponseAsyncCallback = (_, _, _) => Pieces() };
        await using var server = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("unused"), TestContext.Current.CancellationToken);
        await using var gateway = await TestGateway.StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)> { ["oai"] = ("openai-compatible", server, "FAKE_OPENAI_KEY", "gpt-4o-mini") },
            cancellationToken: TestContext.Current.CancellationToken,
            chatClients: new OneClient(provider));

        // When the client reads the stream as it comes
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var lines = new List<string>();
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            lines.Add(line);
            if (line.Contains("\"Hel\"", StringComparison.Ordinal))
            {
                firstSeen.Set();
            }
        }

        // Then the first piece was out before the second was taken, and the stream is whole
        Assert.True(handedOverAfterItWasSeen);
        Assert.Contains(lines, l => l.Contains("\"lo\"", StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", lines.Last(l => l.Length > 0));
    }

    [Fact]
    public async Task InlineIo_WholeAndStreamedAnswers_ReachTheOfficialClient()
    {
        // Given a gateway whose requests run on Kestrel's socket threads (gateway.inline_io)
        await using var gateway = await TestGateway.StartOpenAIAsync(
            FakeUpstreams.OpenAI("Hello"), c => c["gateway"]!["inline_io"] = true, cancellationToken: TestContext.Current.CancellationToken);
        var chat = gateway.Sdk().GetChatClient("oai/gpt-4o-mini");
        var streamed = new StringBuilder();

        // When
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        // Then
        Assert.Equal("Hello", whole.Content[0].Text);
        Assert.Equal("Hello", streamed.ToString());
    }

    [Fact]
    public async Task ChatCompletions_RawStream_IsOpenAIFramingEndingWithUsageAndDone()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI("Hello"), cancellationToken: TestContext.Current.CancellationToken);

        // When
        using var response = await gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent("""{"model":"oai/gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
        var usage = System.Text.Json.JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement;
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(36, usage.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        var finish = System.Text.Json.JsonDocument.Parse(events[^3]["data: ".Length..]).RootElement;
        Assert.Equal("stop", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var first = System.Text.Json.JsonDocument.Parse(events[0]["data: ".Length..]).RootElement;
        Assert.Equal("chat.completion.chunk", first.GetProperty("object").GetString());
        Assert.Equal("assistant", first.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("oai/gpt-4o-mini", first.GetProperty("model").GetString());
    }

    [Fact]
    public async Task ChatCompletions_RawStreamWithoutIncludeUsage_EndsWithTheFinishChunkAndNoUsage()
    {
        // Given a provider that reports usage at the end of every stream
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI("Hello"), cancellationToken: TestContext.Current.CancellationToken);

        // When a client streams without stream_options.include_usage
        using var response = await gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent("""{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        var events = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        // Then no chunk carries usage, as OpenAI streams it only when asked
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.DoesNotContain(events, e => e.Contains("\"usage\"", StringComparison.Ordinal));
        var finish = System.Text.Json.JsonDocument.Parse(events[^2]["data: ".Length..]).RootElement;
        Assert.Equal("stop", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task CompleteChatStreaming_ProviderCutsTheStream_SdkFailsAndNoDoneIsSent()
    {
        // Given a provider that sends a piece and then cuts the connection
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [Chunk("""{"role":"assistant","content":"Partial"}""")]);

                // Failing after the response started makes Kestrel end the connection without the closing chunk,
                // after what was flushed (HttpContext.Abort would race the piece and could lose it).
                throw new InvalidOperationException("upstream cut");
            },
            cancellationToken: TestContext.Current.CancellationToken);
        var text = new StringBuilder();

        // When the SDK reads the stream
        var failure = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }
        });

        // Then it saw the first piece and then an error, not a quietly finished answer
        Assert.Equal("Partial", text.ToString());
        Assert.NotNull(failure);
        Assert.IsNotType<ClientResultException>(failure);
    }

    [Fact]
    public async Task ChatCompletions_RawStreamCut_SendsAnErrorEventAndNoDone()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [Chunk("""{"role":"assistant","content":"Partial"}""")]);

                // Failing after the response started makes Kestrel end the connection without the closing chunk,
                // after what was flushed (HttpContext.Abort would race the piece and could lose it).
                throw new InvalidOperationException("upstream cut");
            },
            cancellationToken: TestContext.Current.CancellationToken);

        // When the raw stream is read line by line until the connection ends
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var lines = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var cut = await Record.ExceptionAsync(async () =>
        {
            while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
            {
                lines.Add(line);
            }
        });

        // Then the status was 200, an error event followed the piece, there was no [DONE], and the connection was cut
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(lines, l => l.Contains("Partial", StringComparison.Ordinal));
        var error = Assert.Single(lines, l => l.StartsWith("data: {\"error\"", StringComparison.Ordinal));
        Assert.Contains("\"code\":\"stream_truncated\"", error, StringComparison.Ordinal);
        Assert.DoesNotContain("data: [DONE]", lines);
        Assert.NotNull(cut);
        var record = Assert.Single(await gateway.RecordsAsync(TestContext.Current.CancellationToken));
        Assert.Equal("truncated_stream", record.Outcome);
        Assert.Null(record.CostUsd);
    }

    [Fact]
    public async Task ChatCompletions_ProviderFailsBeforeFirstPiece_IsAnOrdinaryHttpError()
    {
        // Given a provider that answers a stream request with 503
        await using var gateway = await TestGateway.StartOpenAIAsync(
            context => FakeUpstreams.JsonAsync(context, """{"error":{"message":"Overloaded, try later","type":"server_error"}}""", 503),
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        var failure = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
            {
            }
        });

        // Then
        Assert.Equal(503, failure.Status);
    }

    [Fact]
    public async Task ChatCompletions_ClientDisconnects_CancelsTheUpstreamCallAndRecordsIt()
    {
        // Given a provider that streams a piece and then waits until its request is aborted
        var upstreamAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await LoopbackServer.WritePiecesAsync(context, [Chunk("""{"role":"assistant","content":"Partial answer"}""")]);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    upstreamAborted.TrySetResult();
                }
            },
            cancellationToken: TestContext.Current.CancellationToken);

        // When the client reads the first piece and goes away
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        })
        {
            using var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
            var line = await reader.ReadLineAsync(TestContext.Current.CancellationToken);
            Assert.Contains("Partial answer", line, StringComparison.Ordinal);
        }

        // Then the provider's request is aborted and the router records the call as cancelled with the tokens streamed so far
        await upstreamAborted.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        UsageRecord? record = null;
        for (var i = 0; i < 200 && (record is null || gateway.Host.State.ActiveStreams > 0); i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            record = (await gateway.RecordsAsync(TestContext.Current.CancellationToken)).FirstOrDefault();
        }

        Assert.NotNull(record);
        Assert.Equal("oai", record.Provider);
        Assert.Equal("gateway", record.Role);
        Assert.Equal("cancelled", record.Outcome);
        Assert.True(record.OutputTokens > 0);
        Assert.Equal(0, gateway.Host.State.ActiveStreams);
    }

    [Fact]
    public async Task ChatCompletions_ClientDisconnectsBeforeAWholeAnswer_CancelsTheUpstreamCallAndRecordsIt()
    {
        // Given a provider that takes the request and waits until it is aborted
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                received.TrySetResult();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    upstreamAborted.TrySetResult();
                }
            },
            cancellationToken: TestContext.Current.CancellationToken);
        using var client = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        // When the client gives up on a non-streamed answer while the provider works on it
        var call = gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent("""{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
            client.Token);
        await received.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        await client.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        // Then the provider's request is aborted too, and the router records the call as cancelled
        await upstreamAborted.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        UsageRecord? record = null;
        for (var i = 0; i < 200 && record is null; i++)
        {
            record = (await gateway.RecordsAsync(TestContext.Current.CancellationToken)).FirstOrDefault();
            if (record is null)
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        Assert.NotNull(record);
        Assert.Equal("oai", record.Provider);
        Assert.Equal("cancelled", record.Outcome);
    }

    /// <summary>Hands the gateway one client for every provider and model, in place of the router.</summary>
    private sealed class OneClient(IChatClient client) : IGatewayClientFactory
    {
        public IChatClient Create(string provider, string? model, string session) => client;
    }
}
