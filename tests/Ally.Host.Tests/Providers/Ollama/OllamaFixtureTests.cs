using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Ollama;

/// <summary>Replays responses recorded from real Ollama servers (shared/fixtures/ollama) and checks the requests too.</summary>
public sealed class OllamaFixtureTests
{
    [Fact]
    public async Task GetResponseAsync_ChatTextRecording_MatchesRecordedRequestAndParses()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/chat_text.json") is not { } answer || Fixtures.Read("ollama/chat_text.request.json") is not { } recordedRequest)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);
        ChatMessage[] history =
        [
            new(ChatRole.User, "hello!"),
            new(ChatRole.Assistant, "hi, how are you?"),
            new(ChatRole.User, "i'm good. how are you?"),
        ];
        var options = new ChatOptions { FrequencyPenalty = 0.75f, PresencePenalty = 0.5f, Seed = 42, StopSequences = ["great"], Temperature = 0.25f };

        // When
        var response = await client.GetResponseAsync(history, options, ct);

        // Then
        AssertSameJson(recordedRequest, server.LastRequest.Body);
        Assert.StartsWith("I'm just a computer program", response.Text, StringComparison.Ordinal);
        Assert.Equal("llama3.1", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(36, response.Usage!.InputTokenCount);
        Assert.Equal(55, response.Usage.OutputTokenCount);
        Assert.Equal(91, response.Usage.TotalTokenCount);
        Assert.Equal(new DateTimeOffset(2024, 10, 1, 17, 18, 46, TimeSpan.Zero).AddTicks(3089870), response.CreatedAt);
    }

    [Fact]
    public async Task GetResponseAsync_DocsTextWithoutDoneReason_FinishesStop()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/chat_text.docs.json") is not { } answer)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server, model: "llama3.2");

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "why is the sky blue?")], cancellationToken: ct);

        // Then
        Assert.Equal("Hello! How are you today?", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(26, response.Usage!.InputTokenCount);
        Assert.Equal(298, response.Usage.OutputTokenCount);
        Assert.Equal(324, response.Usage.TotalTokenCount);
        Assert.Equal(5191566416, response.Usage.AdditionalCounts!["total_duration"]);
    }

    [Fact]
    public async Task GetResponseAsync_DoneReasonLengthRecording_MatchesRequestAndFinishesLength()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/chat_text_done_reason_length.json") is not { } answer ||
            Fixtures.Read("ollama/chat_text_done_reason_length.request.json") is not { } recordedRequest)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hello")], new ChatOptions { MaxOutputTokens = 10, Temperature = 0.5f }, ct);

        // Then
        AssertSameJson(recordedRequest, server.LastRequest.Body);
        Assert.Equal("Hello! How are you today? Is there something", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(new DateTimeOffset(2024, 10, 1, 15, 46, 10, TimeSpan.Zero).AddTicks(5248793), response.CreatedAt);
        Assert.Equal(21, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallRecording_MatchesRequestAndParsesCall()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/chat_tool_call.json") is not { } answer || Fixtures.Read("ollama/chat_tool_call.request.json") is not { } recordedRequest)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);
        var tool = AIFunctionFactory.CreateDeclaration(
            "GetPersonAge",
            "Gets the age of the specified person.",
            JsonElement.Parse("""
                {"type":"object","properties":{"personName":{"description":"The person whose age is being requested","type":"string"}},"required":["personName"]}
                """));

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "How old is Alice?")], new ChatOptions { Tools = [tool] }, ct);

        // Then
        AssertSameJson(recordedRequest, server.LastRequest.Body);
        var call = Assert.Single(response.Messages.Single().Contents.OfType<FunctionCallContent>());
        Assert.Equal("GetPersonAge", call.Name);
        Assert.Equal("Alice", ((JsonElement)call.Arguments!["personName"]!).GetString());
        Assert.False(string.IsNullOrEmpty(call.CallId));
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(189, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_DocsToolCall_ParsesCall()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/chat_tool_call.docs.json") is not { } answer)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server, model: "llama3.2");

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "weather in Tokyo?")], new ChatOptions { Tools = [OllamaChatClientTests.WeatherTool()] }, ct);

        // Then
        var call = Assert.Single(response.Messages.Single().Contents.OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Tokyo", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_AfterToolResultRecording_SendsNamedToolResultAndParsesAnswer()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/chat_after_tool_result.json") is not { } answer)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);
        ChatMessage[] history =
        [
            new(ChatRole.User, "How old is Alice?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "GetPersonAge", new Dictionary<string, object?> { ["personName"] = "Alice" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", 42)]),
        ];

        // When
        var response = await client.GetResponseAsync(history, cancellationToken: ct);

        // Then
        var expected = JsonNode.Parse("""
            [
              {"role":"user","content":"How old is Alice?"},
              {"role":"assistant","content":"","tool_calls":[{"function":{"name":"GetPersonAge","arguments":{"personName":"Alice"}}}]},
              {"role":"tool","content":"42","tool_name":"GetPersonAge"}
            ]
            """);
        Assert.True(JsonNode.DeepEquals(expected, OllamaWire.Body(server)["messages"]), OllamaWire.Body(server)["messages"]!.ToJsonString());
        Assert.Equal("Alice is 42 years old.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(114, response.Usage!.TotalTokenCount);
    }

    [Theory]
    [InlineData("ollama/error_400_does_not_support_chat.json", 400, ProviderErrorKind.InvalidRequest, "\"bert\" does not support chat")]
    [InlineData("ollama/error_429_rate_limit.json", 429, ProviderErrorKind.RateLimit, "rate limit exceeded")]
    [InlineData("ollama/error_503_overloaded.json", 503, ProviderErrorKind.Overloaded, "model is overloaded")]
    [InlineData("ollama/error_generic.docs.json", 500, ProviderErrorKind.ServerError, "the model failed to generate a response")]
    public async Task GetResponseAsync_ErrorRecording_IsClassified(string fixture, int status, ProviderErrorKind expected, string text)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read(fixture) is not { } body)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, body, status), ct);
        using var client = OllamaWire.Client(server);

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(expected, error.Kind);
        Assert.Equal(status, error.StatusCode);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamTextRecording_MatchesRequestAndStreamsEveryLine()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/stream_text.ndjson") is not { } stream || Fixtures.Read("ollama/stream_text.request.json") is not { } recordedRequest)
        {
            return;
        }

        var lines = Lines(stream);
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.NdjsonAsync(c, lines), ct);
        using var client = OllamaWire.Client(server);

        // When
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hello")], new ChatOptions { MaxOutputTokens = 20, Temperature = 0.5f }, ct))
        {
            updates.Add(update);
        }

        // Then
        AssertSameJson(recordedRequest, server.LastRequest.Body);
        Assert.Equal(lines.Length, updates.Count);
        var response = updates.ToChatResponse();
        Assert.Equal("Hello! How are you today? Is there something I can help you with or would you like to", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(11, response.Usage!.InputTokenCount);
        Assert.Equal(20, response.Usage.OutputTokenCount);
        Assert.Equal(31, response.Usage.TotalTokenCount);
        Assert.Equal("llama3.1", response.ModelId);
        Assert.All(updates, u => Assert.NotNull(u.CreatedAt));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamToolCallRecording_EmitsCallAndFinishesToolCalls()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/stream_tool_call.docs.ndjson") is not { } stream)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.NdjsonAsync(c, Lines(stream)), ct);
        using var client = OllamaWire.Client(server, model: "llama3.2");

        // When
        var response = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "weather in Tokyo?")], new ChatOptions { Tools = [OllamaChatClientTests.WeatherTool()] }, ct)
            .ToChatResponseAsync(ct);

        // Then
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Tokyo", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(184, response.Usage!.TotalTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_MidStreamErrorRecording_ThrowsTruncatedStreamWithPartialText()
    {
        // Given: the recording is from /api/generate ("response"); the same lines in /api/chat's shape.
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/stream_error_midstream.generate.docs.ndjson") is not { } stream)
        {
            return;
        }

        var lines = Lines(stream).Select(ToChatShape).ToArray();
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.NdjsonAsync(c, lines), ct);
        using var client = OllamaWire.Client(server, model: "gemma4");

        // When
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "can you?")], cancellationToken: ct))
            {
            }
        });

        // Then
        var providerError = Assert.IsType<ProviderException>(error);
        Assert.Equal(ProviderErrorKind.TruncatedStream, providerError.Kind);
        Assert.Equal(" Yes.Ican", providerError.PartialText);
        Assert.Contains("an error was encountered while running the model", providerError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListModelsAsync_TagsRecording_ListsBothModels()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        if (Fixtures.Read("ollama/tags.docs.json") is not { } tags)
        {
            return;
        }

        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, tags), ct);
        using var client = OllamaWire.Client(server);

        // When
        var models = await client.ListModelsAsync(ct);

        // Then
        Assert.Equal(["deepseek-r1:latest", "llama3.2:latest"], models.Select(m => m.Id));
        Assert.Equal("deepseek-r1:latest (qwen2, 7.6B, Q4_K_M)", models[0].DisplayName);
        Assert.Equal("/api/tags", server.LastRequest.PathAndQuery);
    }

    private static string[] Lines(string ndjson) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string ToChatShape(string line)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        if (node["response"] is { } response)
        {
            node.Remove("response");
            node["message"] = new JsonObject { ["role"] = "assistant", ["content"] = response.DeepClone() };
        }

        return node.ToJsonString();
    }

    private static void AssertSameJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual {actual}");
}
