using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Ollama;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Ollama;

public sealed class OllamaChatClientTests
{
    private const string PlainAnswer = """
        {
          "model": "llama3.1",
          "created_at": "2024-10-01T17:18:46.308987Z",
          "message": { "role": "assistant", "content": "Hi there." },
          "done_reason": "stop",
          "done": true,
          "total_duration": 23229369000,
          "load_duration": 7724086300,
          "prompt_eval_count": 36,
          "prompt_eval_duration": 4245660000,
          "eval_count": 55,
          "eval_duration": 11256470000
        }
        """;

    [Fact]
    public async Task GetResponseAsync_PlainAnswer_ParsesTextUsageAndPostsToApiChat()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hello")], cancellationToken: ct);

        // Then
        Assert.Equal("Hi there.", response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal("llama3.1", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(new DateTimeOffset(2024, 10, 1, 17, 18, 46, TimeSpan.Zero).AddTicks(3089870), response.CreatedAt);
        Assert.Equal(36, response.Usage!.InputTokenCount);
        Assert.Equal(55, response.Usage.OutputTokenCount);
        Assert.Equal(91, response.Usage.TotalTokenCount);
        Assert.Equal(23229369000, response.Usage.AdditionalCounts!["total_duration"]);
        Assert.Equal(11256470000, response.Usage.AdditionalCounts["eval_duration"]);
        Assert.NotNull(response.RawRepresentation);

        var request = server.LastRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/chat", request.PathAndQuery);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.False(request.Headers.ContainsKey("Authorization"));
        var body = OllamaWire.Body(server);
        Assert.Equal("llama3.1", (string?)body["model"]);
        Assert.False((bool)body["stream"]!);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"role":"user","content":"hello"}]"""), body["messages"]));
        Assert.Null(body["options"]);
        Assert.Null(body["tools"]);
        Assert.Null(body["format"]);
        Assert.Null(body["think"]);
    }

    [Fact]
    public async Task GetResponseAsync_InstructionsAndHistory_SendsLeadingSystemMessageAndTurnsInOrder()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        ChatMessage[] history =
        [
            new(ChatRole.System, "You are terse."),
            new(ChatRole.User, "hello!"),
            new(ChatRole.Assistant, "hi, how are you?"),
            new(ChatRole.User, "fine"),
        ];

        // When
        await client.GetResponseAsync(history, new ChatOptions { Instructions = "Answer in English." }, ct);

        // Then
        var expected = JsonNode.Parse("""
            [
              {"role":"system","content":"Answer in English."},
              {"role":"system","content":"You are terse."},
              {"role":"user","content":"hello!"},
              {"role":"assistant","content":"hi, how are you?"},
              {"role":"user","content":"fine"}
            ]
            """);
        Assert.True(JsonNode.DeepEquals(expected, OllamaWire.Body(server)["messages"]), OllamaWire.Body(server)["messages"]!.ToJsonString());
    }

    [Fact]
    public async Task GetResponseAsync_AllOptions_MapToOllamaRunnerOptions()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        var options = new ChatOptions
        {
            ModelId = "qwen3:8b",
            Temperature = 0.25f,
            TopP = 0.5f,
            TopK = 40,
            MaxOutputTokens = 128,
            StopSequences = ["END", "STOP"],
            Seed = 42,
            PresencePenalty = 0.5f,
            FrequencyPenalty = 0.75f,
            AdditionalProperties = new() { ["think"] = true, ["num_ctx"] = 8192, ["keep_alive"] = "10m", ["ally.route"] = "x" },
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], options, ct);

        // Then
        var body = OllamaWire.Body(server);
        Assert.Equal("qwen3:8b", (string?)body["model"]);
        Assert.True((bool)body["think"]!);
        Assert.Equal("10m", (string?)body["keep_alive"]);
        var expected = JsonNode.Parse("""
            {"temperature":0.25,"top_p":0.5,"top_k":40,"num_predict":128,"stop":["END","STOP"],"seed":42,
             "presence_penalty":0.5,"frequency_penalty":0.75,"num_ctx":8192}
            """);
        Assert.True(JsonNode.DeepEquals(expected, body["options"]), body["options"]!.ToJsonString());
        Assert.Null(body["ally.route"]);
    }

    [Fact]
    public async Task GetResponseAsync_SettingsTemperatureAndConfigValues_AreDefaults()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = new OllamaChatClient(new ProviderSettings
        {
            Name = "ollama",
            Model = "llama3.1",
            BaseUrl = server.BaseAddress,
            Temperature = 0.5,
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["num_ctx"] = "16384", ["keep_alive"] = "300" },
        });

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct);

        // Then
        var body = OllamaWire.Body(server);
        Assert.Equal(0.5, (double)body["options"]!["temperature"]!);
        Assert.Equal(16384, (int)body["options"]!["num_ctx"]!);
        Assert.Equal(300, (long)body["keep_alive"]!);
    }

    [Fact]
    public async Task GetResponseAsync_JsonSchemaFormat_SendsSchemaObjectAsFormat()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        var schema = JsonElement.Parse("""{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}""");

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "age?")], new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "person") }, ct);

        // Then
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(schema.GetRawText()), OllamaWire.Body(server)["format"]));
    }

    [Fact]
    public async Task GetResponseAsync_JsonMode_SendsFormatJson()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "json please")], new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, ct);

        // Then
        Assert.Equal("json", (string?)OllamaWire.Body(server)["format"]);
    }

    [Fact]
    public async Task GetResponseAsync_Tools_SendsFunctionDefinitions()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        var options = new ChatOptions { Tools = [WeatherTool(), TimeTool()], ToolMode = ChatToolMode.Auto };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "weather?")], options, ct);

        // Then
        var expected = JsonNode.Parse("""
            [
              {"type":"function","function":{"name":"get_weather","description":"Gets the weather.",
                "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
              {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}
            ]
            """);
        Assert.True(JsonNode.DeepEquals(expected, OllamaWire.Body(server)["tools"]), OllamaWire.Body(server)["tools"]!.ToJsonString());
    }

    [Fact]
    public async Task GetResponseAsync_ToolModeNone_SendsNoTools()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { Tools = [WeatherTool()], ToolMode = ChatToolMode.None }, ct);

        // Then
        Assert.Null(OllamaWire.Body(server)["tools"]);
    }

    [Fact]
    public async Task GetResponseAsync_RequireSpecificFunction_OffersOnlyThatFunction()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        var options = new ChatOptions { Tools = [WeatherTool(), TimeTool()], ToolMode = ChatToolMode.RequireSpecific("get_time") };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "time?")], options, ct);

        // Then
        var tools = OllamaWire.Body(server)["tools"]!.AsArray();
        Assert.Equal("get_time", (string?)Assert.Single(tools)!["function"]!["name"]);
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallsWithoutIds_SynthesizesUniqueCallIdsAndFinishesToolCalls()
    {
        // Given: older servers send parallel calls with no id, arguments as objects, and done_reason stop.
        var ct = TestContext.Current.CancellationToken;
        const string answer = """
            {"model":"llama3.1","created_at":"2024-10-01T18:48:30.2669578Z",
             "message":{"role":"assistant","content":"","tool_calls":[
               {"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}},
               {"function":{"name":"get_weather","arguments":{"city":"Paris","days":3}}}]},
             "done_reason":"stop","done":true,"prompt_eval_count":170,"eval_count":19}
            """;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "weather?")], new ChatOptions { Tools = [WeatherTool()] }, ct);

        // Then
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var calls = response.Messages.Single().Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.False(string.IsNullOrEmpty(c.CallId)));
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("Tokyo", ((JsonElement)calls[0].Arguments!["city"]!).GetString());
        Assert.Equal(3, ((JsonElement)calls[1].Arguments!["days"]!).GetInt32());
        Assert.Empty(response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallWithId_KeepsServerId()
    {
        // Given: newer servers number their calls.
        var ct = TestContext.Current.CancellationToken;
        const string answer = """
            {"model":"qwen3","created_at":"2025-09-01T10:00:00.123456789Z",
             "message":{"role":"assistant","content":"","tool_calls":[{"id":"call_abc123","function":{"index":0,"name":"get_time","arguments":{}}}]},
             "done_reason":"stop","done":true}
            """;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "time?")], cancellationToken: ct);

        // Then
        var call = Assert.Single(response.Messages.Single().Contents.OfType<FunctionCallContent>());
        Assert.Equal("call_abc123", call.CallId);
        Assert.Empty(call.Arguments!);
        Assert.Null(response.Usage);
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallsAndResultsInHistory_SendsObjectArgumentsAndNamedToolMessages()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        ChatMessage[] history =
        [
            new(ChatRole.User, "Weather in Tokyo and Paris?"),
            new(ChatRole.Assistant,
            [
                new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Tokyo" }),
                new FunctionCallContent("c2", "get_forecast", new Dictionary<string, object?> { ["city"] = "Paris", ["days"] = 2 }),
            ]),
            new(ChatRole.Tool,
            [
                new FunctionResultContent("c1", "sunny, 22°C"),
                new FunctionResultContent("c2", new Dictionary<string, object?> { ["rain"] = true }),
            ]),
            new(ChatRole.Tool, [new FunctionResultContent("c-unknown", JsonElement.Parse("""{"ok":1}"""))]),
        ];

        // When
        await client.GetResponseAsync(history, cancellationToken: ct);

        // Then
        var expected = JsonNode.Parse("""
            [
              {"role":"user","content":"Weather in Tokyo and Paris?"},
              {"role":"assistant","content":"","tool_calls":[
                {"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}},
                {"function":{"name":"get_forecast","arguments":{"city":"Paris","days":2}}}]},
              {"role":"tool","content":"sunny, 22°C","tool_name":"get_weather"},
              {"role":"tool","content":"{\"rain\":true}","tool_name":"get_forecast"},
              {"role":"tool","content":"{\"ok\":1}"}
            ]
            """);
        var messages = OllamaWire.Body(server)["messages"];
        Assert.True(JsonNode.DeepEquals(expected, messages), messages!.ToJsonString());
    }

    [Fact]
    public async Task GetResponseAsync_Thinking_IsReasoningNotAnswerText()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string answer = """
            {"model":"qwen3","created_at":"2025-05-29T09:35:56.836222Z",
             "message":{"role":"assistant","content":"4","thinking":"2 plus 2 is 4."},
             "done_reason":"stop","done":true,"prompt_eval_count":18,"eval_count":30}
            """;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "2+2?")], new ChatOptions { AdditionalProperties = new() { ["think"] = true } }, ct);

        // Then
        Assert.Equal("4", response.Text);
        Assert.Equal("2 plus 2 is 4.", Assert.Single(response.Messages.Single().Contents.OfType<TextReasoningContent>()).Text);
        Assert.True((bool)OllamaWire.Body(server)["think"]!);
    }

    [Fact]
    public async Task GetResponseAsync_AssistantReasoningAndImages_SendsThinkingAndBase64Images()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        ChatMessage[] history =
        [
            new(ChatRole.User, [new TextContent("What is this?"), new DataContent(new byte[] { 1, 2, 3 }, "image/png")]),
            new(ChatRole.Assistant, [new TextReasoningContent("Looks like bytes."), new TextContent("A tiny image.")]),
            new(ChatRole.User, "Sure?"),
        ];

        // When
        await client.GetResponseAsync(history, cancellationToken: ct);

        // Then
        var expected = JsonNode.Parse("""
            [
              {"role":"user","content":"What is this?","images":["AQID"]},
              {"role":"assistant","content":"A tiny image.","thinking":"Looks like bytes."},
              {"role":"user","content":"Sure?"}
            ]
            """);
        var messages = OllamaWire.Body(server)["messages"];
        Assert.True(JsonNode.DeepEquals(expected, messages), messages!.ToJsonString());
    }

    [Fact]
    public async Task GetResponseAsync_ImageUrl_ThrowsInvalidRequestWithoutCallingServer()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);
        ChatMessage[] history = [new(ChatRole.User, [new UriContent("https://example.com/cat.png", "image/png")])];

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync(history, cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.InvalidRequest, error.Kind);
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("""{"model":"m","created_at":"2024-10-01T15:46:10.5248793Z","message":{"role":"assistant","content":"x"},"done":true}""", "stop")]
    [InlineData("""{"model":"m","created_at":"2024-10-01T15:46:10.5248793Z","message":{"role":"assistant","content":"x"},"done_reason":"stop","done":true}""", "stop")]
    [InlineData("""{"model":"m","created_at":"2024-10-01T15:46:10.5248793Z","message":{"role":"assistant","content":"x"},"done_reason":"length","done":true}""", "length")]
    public async Task GetResponseAsync_DoneReason_MapsToFinishReason(string answer, string expected)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct);

        // Then
        Assert.Equal(new ChatFinishReason(expected), response.FinishReason);
    }

    [Theory]
    [InlineData("2025-05-10T08:06:48.639712648-07:00")]
    [InlineData("2025-05-10T08:06:48.6397126-07:00")]
    public async Task GetResponseAsync_CreatedAtWith7Or9FractionalDigits_Parses(string createdAt)
    {
        // Given: Go writes up to 9 fractional digits; DateTimeOffset reads at most 7.
        var ct = TestContext.Current.CancellationToken;
        var answer = $$"""{"model":"m","created_at":"{{createdAt}}","message":{"role":"assistant","content":"x"},"done":true}""";
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, answer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct);

        // Then
        var expected = new DateTimeOffset(2025, 5, 10, 8, 6, 48, TimeSpan.FromHours(-7)).AddTicks(6397126);
        Assert.Equal(expected, response.CreatedAt);
        Assert.Equal(TimeSpan.FromHours(-7), response.CreatedAt!.Value.Offset);
    }

    [Fact]
    public async Task GetResponseAsync_ApiKeySet_SendsBearerHeader()
    {
        // Given: a key is only ever set for an authenticating proxy in front of Ollama, or ollama.com.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server, apiKey: OllamaWire.Key);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct);

        // Then
        Assert.Equal($"Bearer {OllamaWire.Key}", server.LastRequest.Headers["Authorization"]);
        Assert.DoesNotContain(OllamaWire.Key, server.LastRequest.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_BaseUrlWithPathPrefix_PostsUnderThePrefix()
    {
        // Given: Ollama behind a reverse proxy at /ollama, and a base URL that already names /api.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var prefixed = new OllamaChatClient(new ProviderSettings { Name = "ollama", Model = "m", BaseUrl = new Uri(server.BaseAddress, "ollama") });
        using var withApi = new OllamaChatClient(new ProviderSettings { Name = "ollama", Model = "m", BaseUrl = new Uri(server.BaseAddress, "api/") });

        // When
        await prefixed.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct);
        var first = server.LastRequest.PathAndQuery;
        await withApi.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct);

        // Then
        Assert.Equal("/ollama/api/chat", first);
        Assert.Equal("/api/chat", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetService_Metadata_ReportsProviderUrlAndModel()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = OllamaWire.Client(server);

        // When
        var metadata = client.GetService<ChatClientMetadata>();
        var lister = client.GetService<IModelLister>();

        // Then
        Assert.Equal("ollama", metadata!.ProviderName);
        Assert.Equal(server.BaseAddress, metadata.ProviderUri);
        Assert.Equal("llama3.1", metadata.DefaultModelId);
        Assert.Same(client, lister);
        Assert.Null(client.GetService<ChatClientMetadata>("key"));
    }

    [Fact]
    public async Task GetResponseAsync_NoModel_ThrowsInvalidRequest()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => OllamaWire.JsonAsync(c, PlainAnswer), ct);
        using var client = new OllamaChatClient(new ProviderSettings { Name = "ollama", BaseUrl = server.BaseAddress });

        // When
        var error = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.InvalidRequest, error.Kind);
        Assert.Empty(server.Requests);
    }

    internal static AIFunctionDeclaration WeatherTool() => AIFunctionFactory.CreateDeclaration(
        "get_weather",
        "Gets the weather.",
        JsonElement.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    internal static AIFunctionDeclaration TimeTool() => AIFunctionFactory.CreateDeclaration(
        "get_time",
        description: null,
        JsonElement.Parse("""{"type":"object","properties":{}}"""));
}
