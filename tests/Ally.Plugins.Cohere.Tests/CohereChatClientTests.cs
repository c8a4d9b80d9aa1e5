using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere.Tests;

public sealed class CohereChatClientTests
{
    private const string PlainAnswer = """
        {"id":"c14c80c3-18eb-4519-9460-6c92edd8cfb4","message":{"role":"assistant","content":[{"type":"text","text":"Hello from Cohere."}]},"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":4},"tokens":{"input_tokens":71,"output_tokens":5},"cached_tokens":2}}
        """;

    private const string ToolCallAnswer = """
        {
          "id": "7d8b5a1c-tool",
          "message": {
            "role": "assistant",
            "tool_plan": "I will look up the weather in Toronto and Paris.",
            "tool_calls": [
              {"id": "get_weather_1byjy32y4hvq", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Toronto\",\"days\":2,\"units\":{\"temp\":\"C\"}}"}},
              {"id": "get_weather_2k7hqxcp9x1m", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}
            ]
          },
          "finish_reason": "TOOL_CALL",
          "usage": {"billed_units": {"input_tokens": 37, "output_tokens": 28}, "tokens": {"input_tokens": 1024, "output_tokens": 70}}
        }
        """;

    [Fact]
    public async Task GetResponseAsync_PlainAnswer_ParsesAnswerAndSendsCohereRequest()
    {
        // Given a server answering a plain chat
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        using var client = CohereWire.Client(server);

        // When the client asks with a system prompt and a user turn
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Hi")],
            new ChatOptions { Instructions = "You are Ally." },
            ct);

        // Then the answer, id, finish reason and billed usage are read
        Assert.Equal("Hello from Cohere.", response.Text);
        Assert.Equal("c14c80c3-18eb-4519-9460-6c92edd8cfb4", response.ResponseId);
        Assert.Equal("command-a-03-2025", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.NotNull(response.CreatedAt);
        Assert.Equal(5, response.Usage?.InputTokenCount);
        Assert.Equal(4, response.Usage?.OutputTokenCount);
        Assert.Equal(9, response.Usage?.TotalTokenCount);
        Assert.Equal(2, response.Usage?.CachedInputTokenCount);
        Assert.Equal(71, response.Usage?.AdditionalCounts?["cohere.tokens.input_tokens"]);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);

        // And the request is a v2 chat call with a bearer key and the messages in Cohere's shape
        var request = server.LastRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v2/chat", request.PathAndQuery);
        Assert.Equal($"Bearer {CohereWire.ApiKey}", request.Headers["Authorization"]);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("command-a-03-2025", (string?)body["model"]);
        Assert.False((bool)body["stream"]!);
        var messages = body["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Equal("You are Ally.", (string?)messages[0]!["content"]);
        Assert.Equal("system", (string?)messages[1]!["role"]);
        Assert.Equal("Be brief.", (string?)messages[1]!["content"]);
        Assert.Equal("user", (string?)messages[2]!["role"]);
        Assert.Equal("Hi", (string?)messages[2]!["content"]);
        Assert.Null(body["tools"]);
    }

    [Fact]
    public async Task GetResponseAsync_AllOptions_MapsToCohereFields()
    {
        // Given a server and every option set
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        using var client = CohereWire.Client(server);
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");
        var options = new ChatOptions
        {
            ModelId = "command-r-08-2024",
            Temperature = 0.3f,
            MaxOutputTokens = 123,
            TopP = 0.9f,
            TopK = 40,
            StopSequences = ["END", "STOP"],
            Seed = 42,
            FrequencyPenalty = 0.1f,
            PresencePenalty = 0.2f,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement, "city"),
            AdditionalProperties = new() { ["safety_mode"] = "OFF", ["temperature"] = 2.0 },
        };

        // When the client sends them
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Where?")], options, ct);

        // Then each lands in Cohere's own field, and passthrough never overrides a mapped one
        var body = JsonNode.Parse(server.LastRequest.Body)!;
        Assert.Equal("command-r-08-2024", (string?)body["model"]);
        Assert.Equal("command-r-08-2024", response.ModelId);
        Assert.Equal(0.3, (double)body["temperature"]!, 3);
        Assert.Equal(123, (int)body["max_tokens"]!);
        Assert.Equal(0.9, (double)body["p"]!, 3);
        Assert.Equal(40, (int)body["k"]!);
        Assert.Equal(["END", "STOP"], body["stop_sequences"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(42, (long)body["seed"]!);
        Assert.Equal(0.1, (double)body["frequency_penalty"]!, 3);
        Assert.Equal(0.2, (double)body["presence_penalty"]!, 3);
        Assert.Equal("json_object", (string?)body["response_format"]!["type"]);
        Assert.Equal("string", (string?)body["response_format"]!["json_schema"]!["properties"]!["city"]!["type"]);
        Assert.Equal("OFF", (string?)body["safety_mode"]);
    }

    [Fact]
    public async Task GetResponseAsync_JsonModeWithoutSchema_SendsJsonObjectOnly()
    {
        // Given a server
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        using var client = CohereWire.Client(server);

        // When JSON mode is asked for without a schema
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "JSON please")], new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, ct);

        // Then the response format is a bare json_object
        var format = JsonNode.Parse(server.LastRequest.Body)!["response_format"]!;
        Assert.Equal("json_object", (string?)format["type"]);
        Assert.Null(format["json_schema"]);
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallAnswer_ParsesCallsAndPlanAndSendsToolHistory()
    {
        // Given a server that answers with two tool calls and a tool plan
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, ToolCallAnswer), ct);
        using var client = CohereWire.Client(server);
        var tool = AIFunctionFactory.Create((string location) => $"Sunny in {location}", "get_weather", "Gets the weather.");
        var history = new List<ChatMessage>
        {
            new(ChatRole.User, "Weather in Oslo?"),
            new(ChatRole.Assistant, [
                new TextReasoningContent("I will check Oslo."),
                new FunctionCallContent("get_weather_oslo", "get_weather", new Dictionary<string, object?> { ["location"] = "Oslo" }),
            ]),
            new(ChatRole.Tool, [new FunctionResultContent("get_weather_oslo", new Dictionary<string, object?> { ["temp"] = 3 })]),
            new(ChatRole.Assistant, "It is 3 degrees in Oslo."),
            new(ChatRole.User, "And Toronto and Paris?"),
        };

        // When the client sends the history with the tool offered
        var response = await client.GetResponseAsync(history, new ChatOptions { Tools = [tool] }, ct);

        // Then both calls are parsed with their arguments, the plan is reasoning, and the finish reason is ToolCalls
        var contents = Assert.Single(response.Messages).Contents;
        var calls = contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal("get_weather_1byjy32y4hvq", calls[0].CallId);
        Assert.Equal("get_weather", calls[0].Name);
        Assert.Equal("Toronto", ((JsonElement)calls[0].Arguments!["location"]!).GetString());
        Assert.Equal(2, ((JsonElement)calls[0].Arguments!["days"]!).GetInt32());
        Assert.Equal("C", ((JsonElement)calls[0].Arguments!["units"]!).GetProperty("temp").GetString());
        Assert.Equal("Paris", ((JsonElement)calls[1].Arguments!["location"]!).GetString());
        Assert.Equal("I will look up the weather in Toronto and Paris.", Assert.Single(contents.OfType<TextReasoningContent>()).Text);
        Assert.Equal(string.Empty, response.Text);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(37, response.Usage?.InputTokenCount);

        // And the request carries the tool definition and the history in Cohere's shape
        var body = JsonNode.Parse(server.LastRequest.Body)!;
        var function = body["tools"]![0]!;
        Assert.Equal("function", (string?)function["type"]);
        Assert.Equal("get_weather", (string?)function["function"]!["name"]);
        Assert.Equal("Gets the weather.", (string?)function["function"]!["description"]);
        Assert.Equal("string", (string?)function["function"]!["parameters"]!["properties"]!["location"]!["type"]);
        Assert.Null(body["tool_choice"]);

        var messages = body["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "tool", "assistant", "user"], messages.Select(m => (string?)m!["role"]));
        var assistant = messages[1]!;
        Assert.Equal("I will check Oslo.", (string?)assistant["tool_plan"]);
        Assert.Null(assistant["content"]);
        var call = assistant["tool_calls"]![0]!;
        Assert.Equal("get_weather_oslo", (string?)call["id"]);
        Assert.Equal("function", (string?)call["type"]);
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        Assert.Equal("""{"location":"Oslo"}""", (string?)call["function"]!["arguments"]);
        Assert.Equal("get_weather_oslo", (string?)messages[2]!["tool_call_id"]);
        Assert.Equal("""{"temp":3}""", (string?)messages[2]!["content"]);
        Assert.Equal("It is 3 degrees in Oslo.", (string?)messages[3]!["content"]);
    }

    [Theory]
    [InlineData("required", "REQUIRED", 2)]
    [InlineData("none", "NONE", 2)]
    [InlineData("specific", "REQUIRED", 1)]
    public async Task GetResponseAsync_ToolMode_MapsToToolChoice(string mode, string expectedChoice, int expectedTools)
    {
        // Given two tools and a tool mode
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        using var client = CohereWire.Client(server);
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.Create(() => "a", "tool_a"), AIFunctionFactory.Create(() => "b", "tool_b")],
            ToolMode = mode switch
            {
                "required" => ChatToolMode.RequireAny,
                "none" => ChatToolMode.None,
                _ => ChatToolMode.RequireSpecific("tool_b"),
            },
        };

        // When the client sends them
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Go")], options, ct);

        // Then tool_choice says so; a specific function is forced by offering only that one
        var body = JsonNode.Parse(server.LastRequest.Body)!;
        Assert.Equal(expectedChoice, (string?)body["tool_choice"]);
        Assert.Equal(expectedTools, body["tools"]!.AsArray().Count);
        if (mode == "specific")
        {
            Assert.Equal("tool_b", (string?)body["tools"]![0]!["function"]!["name"]);
        }
    }

    [Fact]
    public async Task GetResponseAsync_UserImage_SendsContentArray()
    {
        // Given a user turn with text and an image
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        using var client = CohereWire.Client(server);
        var message = new ChatMessage(ChatRole.User, [new TextContent("What is this?"), new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);

        // When it is sent
        await client.GetResponseAsync([message], cancellationToken: ct);

        // Then the content is Cohere's array form with an image_url part
        var content = JsonNode.Parse(server.LastRequest.Body)!["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("text", (string?)content[0]!["type"]);
        Assert.Equal("What is this?", (string?)content[0]!["text"]);
        Assert.Equal("image_url", (string?)content[1]!["type"]);
        Assert.Equal("data:image/png;base64,AQID", (string?)content[1]!["image_url"]!["url"]);
    }

    [Fact]
    public async Task GetResponseAsync_TextThatLooksLikeADate_IsKeptVerbatim()
    {
        // Given an answer whose text and tool arguments look like dates (Newtonsoft would turn them into DateTime)
        var ct = TestContext.Current.CancellationToken;
        const string Answer = """
            {"id":"d","message":{"role":"assistant","content":[{"type":"text","text":"2024-03-01T10:00:00Z"}],"tool_calls":[{"id":"c1","type":"function","function":{"name":"book","arguments":"{\"at\":\"2024-03-01T10:00:00+02:00\"}"}}]},"finish_reason":"TOOL_CALL"}
            """;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, Answer), ct);
        using var client = CohereWire.Client(server);

        // When the answer is read
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "When?")], cancellationToken: ct);

        // Then both strings are exactly what the server sent
        Assert.Equal("2024-03-01T10:00:00Z", response.Text);
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("2024-03-01T10:00:00+02:00", ((JsonElement)call.Arguments!["at"]!).GetString());
        Assert.Null(response.Usage);
    }

    [Fact]
    public async Task GetResponseAsync_MalformedToolArguments_SetsExceptionOnCall()
    {
        // Given a tool call whose arguments are not JSON
        var ct = TestContext.Current.CancellationToken;
        const string Answer = """
            {"id":"m","message":{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\": "}}]},"finish_reason":"TOOL_CALL"}
            """;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, Answer), ct);
        using var client = CohereWire.Client(server);

        // When the answer is read
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Go")], cancellationToken: ct);

        // Then the call is still returned, carrying the parse failure for the tool loop to report
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("f", call.Name);
        Assert.NotNull(call.Exception);
    }

    [Theory]
    [InlineData("COMPLETE", "stop")]
    [InlineData("STOP_SEQUENCE", "stop")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("TOOL_CALL", "tool_calls")]
    public async Task GetResponseAsync_FinishReason_IsMapped(string wire, string expected)
    {
        // Given an answer with a finish reason
        var ct = TestContext.Current.CancellationToken;
        var answer = PlainAnswer.Replace("\"COMPLETE\"", $"\"{wire}\"", StringComparison.Ordinal);
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, answer), ct);
        using var client = CohereWire.Client(server);

        // When it is read
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then it maps to the MEAI reason
        Assert.Equal(new ChatFinishReason(expected), response.FinishReason);
    }

    [Theory]
    [InlineData("ERROR", ProviderErrorKind.ServerError)]
    [InlineData("TIMEOUT", ProviderErrorKind.Timeout)]
    public async Task GetResponseAsync_FailedFinishReason_Throws(string wire, ProviderErrorKind expected)
    {
        // Given an HTTP 200 whose generation failed on Cohere's side
        var ct = TestContext.Current.CancellationToken;
        var answer = PlainAnswer.Replace("\"COMPLETE\"", $"\"{wire}\"", StringComparison.Ordinal);
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, answer), ct);
        using var client = CohereWire.Client(server);

        // When it is read
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then the failure is classified and keeps the partial text
        Assert.Equal(expected, exception.Kind);
        Assert.Equal(wire, exception.ErrorCode);
        Assert.Equal("Hello from Cohere.", exception.PartialText);
        Assert.Equal("cohere", exception.Provider);
    }

    [Fact]
    public async Task GetResponseAsync_BaseUrlWithPathPrefix_KeepsThePrefix()
    {
        // Given a base URL behind a proxy path
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        using var client = new CoherePlugin().CreateClient(CohereWire.Settings(new Uri(server.BaseAddress, "proxy/cohere")));

        // When the client calls
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then the path is appended to the prefix
        Assert.Equal("/proxy/cohere/v2/chat", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_KeyFromCoApiKey_IsSentAsBearer()
    {
        // Given settings whose key comes from CO_API_KEY only
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, PlainAnswer), ct);
        var settings = CohereWire.Settings(server.BaseAddress) with
        {
            ApiKey = null,
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["CO_API_KEY"] = "co-sdk-key" },
        };
        using var client = new CoherePlugin().CreateClient(settings);

        // When the client calls
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then that key is used
        Assert.Equal("Bearer co-sdk-key", server.LastRequest.Headers["Authorization"]);
    }

    [Fact]
    public void GetService_Metadata_DescribesProviderAndModel()
    {
        // Given a client
        using var client = new CoherePlugin().CreateClient(CohereWire.Settings(new Uri("https://api.cohere.com"), model: null));

        // When its services are asked for
        var metadata = client.GetService<ChatClientMetadata>();
        var lister = client.GetService<IModelLister>();

        // Then it describes itself and lists models
        Assert.NotNull(metadata);
        Assert.Equal("cohere", metadata.ProviderName);
        Assert.Equal(new Uri("https://api.cohere.com"), metadata.ProviderUri);
        Assert.Equal("command-a-03-2025", metadata.DefaultModelId);
        Assert.Same(client, lister);
        Assert.Null(client.GetService(typeof(ChatClientMetadata), "key"));
    }
}
