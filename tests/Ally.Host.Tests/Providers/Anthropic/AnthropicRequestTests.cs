using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Anthropic;

public sealed class AnthropicRequestTests
{
    private static readonly string OkMessage = AnthropicWire.Message("""[{"type":"text","text":"ok"}]""");

    [Fact]
    public async Task GetResponseAsync_PlainCall_SendsHeadersAndKeyOnlyInApiKeyHeader()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var request = server.LastRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/messages", request.PathAndQuery);
        Assert.Equal(AnthropicWire.ApiKey, request.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", request.Headers["anthropic-version"]);
        Assert.StartsWith("application/json", request.Headers["content-type"], StringComparison.Ordinal);
        Assert.False(request.Headers.ContainsKey("authorization"));
        Assert.DoesNotContain(AnthropicWire.ApiKey, request.PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain(AnthropicWire.ApiKey, request.Body, StringComparison.Ordinal);
        var others = request.Headers.Where(h => !h.Key.Equals("x-api-key", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(others, h => h.Value.Contains(AnthropicWire.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetResponseAsync_VersionAndBetaConfigured_SendsThem()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server, s => s with
        {
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["anthropic_version"] = "2024-01-01", ["anthropic_beta"] = "prompt-caching-2024-07-31" },
        });

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("2024-01-01", server.LastRequest.Headers["anthropic-version"]);
        Assert.Equal("prompt-caching-2024-07-31", server.LastRequest.Headers["anthropic-beta"]);
    }

    [Theory]
    [InlineData("", "/v1/messages")]
    [InlineData("/", "/v1/messages")]
    [InlineData("/v1", "/v1/messages")]
    [InlineData("/v1/", "/v1/messages")]
    [InlineData("/proxy/anthropic", "/proxy/anthropic/v1/messages")]
    public async Task GetResponseAsync_BaseUrlForms_JoinsPathOnce(string suffix, string expectedPath)
    {
        // Given
        await using var server = await StartOkServerAsync();
        var baseUrl = new Uri(server.BaseAddress.AbsoluteUri.TrimEnd('/') + suffix);
        using var client = AnthropicWire.Client(server, s => s with { BaseUrl = baseUrl });

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expectedPath, server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_InstructionsAndSystemMessages_GoToTopLevelSystem()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.System, "You are terse."),
            new(ChatRole.User, "Hi"),
            new(ChatRole.System, "Answer in French."),
        ];

        // When
        await client.GetResponseAsync(messages, new ChatOptions { Instructions = "Be kind." }, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        Assert.Equal("Be kind.\n\nYou are terse.\n\nAnswer in French.", body.GetProperty("system").GetString());
        var wire = body.GetProperty("messages");
        Assert.Equal(1, wire.GetArrayLength());
        Assert.Equal("user", wire[0].GetProperty("role").GetString());
        Assert.DoesNotContain("system", wire.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ConsecutiveSameRoleTurns_MergedIntoAlternatingMessages()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "one"),
            new(ChatRole.User, "two"),
            new(ChatRole.Assistant, "three"),
            new(ChatRole.Assistant, "four"),
            new(ChatRole.User, "five"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        Assert.Equal(["user", "assistant", "user"], wire.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(["one", "two"], Texts(wire[0]));
        Assert.Equal(["three", "four"], Texts(wire[1]));
        Assert.Equal(["five"], Texts(wire[2]));
    }

    [Fact]
    public async Task GetResponseAsync_EmptyAndWhitespaceText_NeverSentAsBlocks()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "question"),
            new(ChatRole.Assistant, [new TextContent(string.Empty), new FunctionCallContent("toolu_1", "lookup", new Dictionary<string, object?> { ["q"] = "x" })]),
            new(ChatRole.Tool, [new FunctionResultContent("toolu_1", "found")]),
            new(ChatRole.Assistant, "  "),
            new(ChatRole.User, "thanks"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        Assert.Equal(["user", "assistant", "user"], wire.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        var assistant = wire[1].GetProperty("content");
        Assert.Equal(1, assistant.GetArrayLength());
        Assert.Equal("tool_use", assistant[0].GetProperty("type").GetString());
        foreach (var block in wire.EnumerateArray().SelectMany(m => m.GetProperty("content").EnumerateArray()))
        {
            if (block.GetProperty("type").GetString() == "text")
            {
                Assert.False(string.IsNullOrWhiteSpace(block.GetProperty("text").GetString()));
            }
        }

        // The tool result and the following user text share one user turn, result first.
        var user = wire[2].GetProperty("content");
        Assert.Equal("tool_result", user[0].GetProperty("type").GetString());
        Assert.Equal("thanks", user[1].GetProperty("text").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_ParallelToolResults_GroupedInOneUserTurnWithErrorFlag()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather in Paris and Rome?"),
            new(ChatRole.Assistant,
            [
                new TextContent("Checking both."),
                new FunctionCallContent("toolu_A", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }),
                new FunctionCallContent("toolu_B", "get_weather", new Dictionary<string, object?> { ["city"] = "Rome", ["days"] = 2 }),
            ]),
            new(ChatRole.Tool, [new FunctionResultContent("toolu_A", "18C and sunny")]),
            new(ChatRole.Tool, [new FunctionResultContent("toolu_B", "Error: service down") { Exception = new InvalidOperationException("service down") }]),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        Assert.Equal(3, wire.GetArrayLength());
        var calls = wire[1].GetProperty("content");
        Assert.Equal("text", calls[0].GetProperty("type").GetString());
        Assert.Equal("toolu_A", calls[1].GetProperty("id").GetString());
        Assert.Equal("get_weather", calls[1].GetProperty("name").GetString());
        Assert.Equal("Paris", calls[1].GetProperty("input").GetProperty("city").GetString());
        Assert.Equal(2, calls[2].GetProperty("input").GetProperty("days").GetInt32());

        var results = wire[2];
        Assert.Equal("user", results.GetProperty("role").GetString());
        var blocks = results.GetProperty("content");
        Assert.Equal(2, blocks.GetArrayLength());
        Assert.Equal("toolu_A", blocks[0].GetProperty("tool_use_id").GetString());
        Assert.Equal("18C and sunny", blocks[0].GetProperty("content").GetString());
        Assert.False(blocks[0].TryGetProperty("is_error", out _));
        Assert.Equal("toolu_B", blocks[1].GetProperty("tool_use_id").GetString());
        Assert.True(blocks[1].GetProperty("is_error").GetBoolean());
    }

    [Fact]
    public async Task GetResponseAsync_ForeignToolCallIds_NormalizedConsistentlyForCallAndResult()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "go"),
            new(ChatRole.Assistant,
            [
                new FunctionCallContent("call_abc123", "a", null),
                new FunctionCallContent("Xy7Pq2Lm9", "b", null),
                new FunctionCallContent("functions.lookup:0", "c", null),
            ]),
            new(ChatRole.Tool,
            [
                new FunctionResultContent("call_abc123", "1"),
                new FunctionResultContent("Xy7Pq2Lm9", "2"),
                new FunctionResultContent("functions.lookup:0", "3"),
            ]),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        var callIds = wire[1].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToList();
        var resultIds = wire[2].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("tool_use_id").GetString()!).ToList();
        Assert.Equal(callIds, resultIds);
        Assert.Equal("call_abc123", callIds[0]);
        Assert.Equal("Xy7Pq2Lm9", callIds[1]);
        Assert.Matches("^[a-zA-Z0-9_-]+$", callIds[2]);
        Assert.All(callIds, id => Assert.Matches("^[a-zA-Z0-9_-]+$", id));
        Assert.All(wire[1].GetProperty("content").EnumerateArray(), b => Assert.Equal(JsonValueKind.Object, b.GetProperty("input").ValueKind));
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallWithoutResult_GetsErrorResultSoTheRequestIsValid()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "go"),
            new(ChatRole.Assistant, [new FunctionCallContent("toolu_1", "a", null)]),
            new(ChatRole.User, "never mind, just say hi"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var user = AnthropicWire.Body(server.LastRequest).GetProperty("messages")[2].GetProperty("content");
        Assert.Equal("tool_result", user[0].GetProperty("type").GetString());
        Assert.Equal("toolu_1", user[0].GetProperty("tool_use_id").GetString());
        Assert.True(user[0].GetProperty("is_error").GetBoolean());
        Assert.Equal("never mind, just say hi", user[1].GetProperty("text").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_ResultWithoutItsCall_SentAsTextInstead()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.Tool, [new FunctionResultContent("call_gone", "42")]),
            new(ChatRole.User, "what was it?"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        Assert.Equal(1, wire.GetArrayLength());
        Assert.DoesNotContain("tool_result", wire.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("42", Texts(wire[0])[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_HistoryStartsWithAssistant_OpensWithUserTurn()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages = [new(ChatRole.Assistant, "Hello, how can I help?"), new(ChatRole.User, "Tell me a joke")];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        Assert.Equal(["user", "assistant", "user"], wire.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("Hello, how can I help?", Texts(wire[1])[0]);
    }

    [Theory]
    [InlineData("claude-sonnet-4-5", null, null, 8192)]
    [InlineData("claude-3-haiku-20240307", null, null, 4096)]
    [InlineData("claude-3-opus-latest", null, null, 4096)]
    [InlineData("claude-3-5-haiku-latest", null, null, 8192)]
    [InlineData("claude-sonnet-4-5", "2000", null, 2000)]
    [InlineData("claude-sonnet-4-5", "2000", 300, 300)]
    public async Task GetResponseAsync_MaxTokens_AlwaysPresent(string model, string? configured, int? fromOptions, int expected)
    {
        // Given
        await using var server = await StartOkServerAsync();
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (configured is not null)
        {
            values["max_tokens"] = configured;
        }

        using var client = AnthropicWire.Client(server, s => s with { Model = model, Values = values });

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { MaxOutputTokens = fromOptions }, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        Assert.Equal(expected, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(model, body.GetProperty("model").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_Options_MappedToWireFields()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions
        {
            ModelId = "claude-opus-4-1",
            Temperature = 0.3f,
            TopK = 40,
            StopSequences = ["END", " "],
            Seed = 7,
            FrequencyPenalty = 0.5f,
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        Assert.Equal("claude-opus-4-1", body.GetProperty("model").GetString());
        Assert.Equal(0.3, body.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(40, body.GetProperty("top_k").GetInt32());
        Assert.Equal(["END"], body.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
        Assert.False(body.TryGetProperty("stream", out _));
        Assert.False(body.TryGetProperty("seed", out _));
        Assert.False(body.TryGetProperty("frequency_penalty", out _));
    }

    [Fact]
    public async Task GetResponseAsync_AdditionalProperties_OnlyKnownFieldsPassThrough()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions
        {
            Temperature = 0.3f,
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                ["metadata"] = new Dictionary<string, string> { ["user_id"] = "u-42" },
                ["ally.route"] = "primary",
            },
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        Assert.Equal("u-42", body.GetProperty("metadata").GetProperty("user_id").GetString());
        Assert.False(body.TryGetProperty("ally.route", out _));
        Assert.Contains("\"temperature\":0.3", server.LastRequest.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_TopPWithoutTemperature_SendsTopPAndClampsForeignTemperature()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { TopP = 0.9f }, TestContext.Current.CancellationToken);
        var first = AnthropicWire.Body(server.LastRequest);
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { Temperature = 1.7f, TopP = 0.9f }, TestContext.Current.CancellationToken);
        var second = AnthropicWire.Body(server.LastRequest);

        // Then
        Assert.Equal(0.9, first.GetProperty("top_p").GetDouble(), 3);
        Assert.False(first.TryGetProperty("temperature", out _));
        Assert.Equal(1.0, second.GetProperty("temperature").GetDouble(), 3);
        Assert.False(second.TryGetProperty("top_p", out _));
    }

    [Fact]
    public async Task GetResponseAsync_Tools_SentWithInputSchemaAndToolChoice()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var schema = JsonElement.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("get_weather", "Get weather", schema), AIFunctionFactory.CreateDeclaration("now", null, JsonElement.Parse("{}"))],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
            AllowMultipleToolCalls = false,
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        var tools = body.GetProperty("tools");
        Assert.Equal("get_weather", tools[0].GetProperty("name").GetString());
        Assert.Equal("Get weather", tools[0].GetProperty("description").GetString());
        Assert.Equal("string", tools[0].GetProperty("input_schema").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("object", tools[1].GetProperty("input_schema").GetProperty("type").GetString());
        Assert.False(tools[1].TryGetProperty("description", out _));
        var choice = body.GetProperty("tool_choice");
        Assert.Equal("tool", choice.GetProperty("type").GetString());
        Assert.Equal("get_weather", choice.GetProperty("name").GetString());
        Assert.True(choice.GetProperty("disable_parallel_tool_use").GetBoolean());
    }

    [Theory]
    [InlineData("auto", null)]
    [InlineData("any", "any")]
    [InlineData("none", "none")]
    public async Task GetResponseAsync_ToolModes_MappedToToolChoice(string mode, string? expected)
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("f", "d", JsonElement.Parse("""{"type":"object"}"""))],
            ToolMode = mode switch { "any" => ChatToolMode.RequireAny, "none" => ChatToolMode.None, _ => ChatToolMode.Auto },
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        if (expected is null)
        {
            Assert.False(body.TryGetProperty("tool_choice", out _));
        }
        else
        {
            Assert.Equal(expected, body.GetProperty("tool_choice").GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task GetResponseAsync_JsonSchemaFormat_ForcesSchemaToolAndReturnsItsInputAsText()
    {
        // Given
        var schema = JsonElement.Parse("""{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}""");
        var answer = AnthropicWire.Message(
            """[{"type":"tool_use","id":"toolu_S","name":"person","input":{"name":"Ada","age":36}}]""",
            stopReason: "tool_use");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, answer), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "person", "A person") };

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Who wrote the first program?")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("person", tool.GetProperty("name").GetString());
        Assert.Equal("A person", tool.GetProperty("description").GetString());
        Assert.Equal("integer", tool.GetProperty("input_schema").GetProperty("properties").GetProperty("age").GetProperty("type").GetString());
        Assert.Equal("tool", body.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal("person", body.GetProperty("tool_choice").GetProperty("name").GetString());
        Assert.False(body.TryGetProperty("response_format", out _));

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Empty(response.Messages[0].Contents.OfType<FunctionCallContent>());
        using var parsed = JsonDocument.Parse(response.Text);
        Assert.Equal("Ada", parsed.RootElement.GetProperty("name").GetString());
        Assert.Equal(36, parsed.RootElement.GetProperty("age").GetInt32());
    }

    [Fact]
    public async Task GetResponseAsync_NonObjectSchema_WrappedAndUnwrapped()
    {
        // Given
        var schema = JsonElement.Parse("""{"type":"array","items":{"type":"string"}}""");
        var answer = AnthropicWire.Message(
            """[{"type":"tool_use","id":"toolu_S","name":"json_response","input":{"value":["a","b"]}}]""",
            stopReason: "tool_use");
        await using var server = await LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, answer), TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "List two letters")],
            new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema) },
            TestContext.Current.CancellationToken);

        // Then
        var inputSchema = AnthropicWire.Body(server.LastRequest).GetProperty("tools")[0].GetProperty("input_schema");
        Assert.Equal("object", inputSchema.GetProperty("type").GetString());
        Assert.Equal("array", inputSchema.GetProperty("properties").GetProperty("value").GetProperty("type").GetString());
        Assert.Equal("""["a","b"]""", response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_JsonSchemaWithUserTools_RequiresAnyToolAndKeepsUserCalls()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("search", "Search", JsonElement.Parse("""{"type":"object"}"""))],
            ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonElement.Parse("""{"type":"object","properties":{}}"""), "result"),
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        Assert.Equal(["search", "result"], body.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal("any", body.GetProperty("tool_choice").GetProperty("type").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_ReasoningInHistory_SentOnlyWithSignature()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Q1"),
            new(ChatRole.Assistant, [new TextReasoningContent("signed thought") { ProtectedData = "sig-123" }, new TextContent("A1")]),
            new(ChatRole.User, "Q2"),
            new(ChatRole.Assistant, [new TextReasoningContent("foreign thought"), new TextContent("A2")]),
            new(ChatRole.User, "Q3"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var wire = AnthropicWire.Body(server.LastRequest).GetProperty("messages");
        var first = wire[1].GetProperty("content");
        Assert.Equal("thinking", first[0].GetProperty("type").GetString());
        Assert.Equal("signed thought", first[0].GetProperty("thinking").GetString());
        Assert.Equal("sig-123", first[0].GetProperty("signature").GetString());
        var second = wire[3].GetProperty("content");
        Assert.Equal(1, second.GetArrayLength());
        Assert.Equal("A2", second[0].GetProperty("text").GetString());
        Assert.DoesNotContain("foreign thought", server.LastRequest.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_ReasoningEffort_EnablesThinkingWithinMaxTokens()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var options = new ChatOptions { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Medium }, Temperature = 0.2f, MaxOutputTokens = 1000 };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Think")], options, TestContext.Current.CancellationToken);

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        var thinking = body.GetProperty("thinking");
        Assert.Equal("enabled", thinking.GetProperty("type").GetString());
        var budget = thinking.GetProperty("budget_tokens").GetInt32();
        Assert.True(body.GetProperty("max_tokens").GetInt32() > budget);
        Assert.False(body.TryGetProperty("temperature", out _));
    }

    [Fact]
    public async Task GetResponseAsync_Images_SentAsImageBlocks()
    {
        // Given
        await using var server = await StartOkServerAsync();
        using var client = AnthropicWire.Client(server);
        var message = new ChatMessage(ChatRole.User,
        [
            new TextContent("What is this?"),
            new DataContent(new byte[] { 1, 2, 3 }, "image/png"),
            new UriContent(new Uri("https://example.com/cat.jpg"), "image/jpeg"),
        ]);

        // When
        await client.GetResponseAsync([message], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var content = AnthropicWire.Body(server.LastRequest).GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("image", content[1].GetProperty("type").GetString());
        Assert.Equal("base64", content[1].GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("image/png", content[1].GetProperty("source").GetProperty("media_type").GetString());
        Assert.Equal("AQID", content[1].GetProperty("source").GetProperty("data").GetString());
        Assert.Equal("url", content[2].GetProperty("source").GetProperty("type").GetString());
        Assert.Equal("https://example.com/cat.jpg", content[2].GetProperty("source").GetProperty("url").GetString());
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Request_SetsStreamTrue()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async ctx =>
            {
                AnthropicWire.StartSse(ctx);
                await ctx.Response.WriteAsync(AnthropicWire.MessageStart() + AnthropicWire.MessageDelta("end_turn", 1) + AnthropicWire.MessageStop(), ctx.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var client = AnthropicWire.Client(server);

        // When
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            _ = update;
        }

        // Then
        var body = AnthropicWire.Body(server.LastRequest);
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.Contains("text/event-stream", server.LastRequest.Headers["accept"], StringComparison.Ordinal);
    }

    private static Task<LoopbackServer> StartOkServerAsync() =>
        LoopbackServer.StartAsync(ctx => AnthropicWire.WriteJsonAsync(ctx, 200, OkMessage), TestContext.Current.CancellationToken);

    private static List<string?> Texts(JsonElement message) =>
        message.GetProperty("content").EnumerateArray()
            .Where(b => b.GetProperty("type").GetString() == "text")
            .Select(b => b.GetProperty("text").GetString())
            .ToList();
}
