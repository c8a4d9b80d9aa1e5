using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Gemini;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Gemini;

public sealed class GeminiChatClientTests
{
    [Fact]
    public async Task GetResponseAsync_PlainAnswer_ParsesTextUsageAndIds()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("Hello there."), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.Equal("Hello there.", response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("resp-1", response.ResponseId);
        Assert.Equal("gemini-2.0-flash-001", response.ModelId);
        Assert.NotNull(response.CreatedAt);
        Assert.NotNull(response.RawRepresentation);
        Assert.Equal(5, response.Usage!.InputTokenCount);
        Assert.Equal(3, response.Usage.OutputTokenCount);
        Assert.Equal(8, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_AnyCall_PostsToGenerateContentWithKeyOnlyInHeader()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        var request = server.LastRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1beta/models/gemini-2.0-flash:generateContent", request.PathAndQuery);
        Assert.Equal(GeminiWire.ApiKey, request.Headers["x-goog-api-key"]);
        Assert.DoesNotContain(GeminiWire.ApiKey, request.PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain("key=", request.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.False(request.Headers.ContainsKey("Authorization"));
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_NoKey_SendsNoKeyHeader()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server, apiKey: null);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.False(server.LastRequest.Headers.ContainsKey("x-goog-api-key"));
    }

    [Theory]
    [InlineData("models/gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:generateContent")]
    [InlineData("gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:generateContent")]
    [InlineData("tunedModels/my-tune", "/v1beta/tunedModels/my-tune:generateContent")]
    public async Task GetResponseAsync_ModelIdWithOrWithoutPrefix_UsesOneModelsPrefix(string model, string expectedPath)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server, model: model);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.Equal(expectedPath, server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_OptionsModelId_OverridesSettingsModel()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { ModelId = "models/gemini-2.5-flash" }, ct);

        // Then
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_BaseUrlAlreadyVersioned_DoesNotAddVersionTwice()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server, baseSuffix: "proxy/v1beta/");

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.Equal("/proxy/v1beta/models/gemini-2.0-flash:generateContent", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_SystemPromptAndInstructions_GoToSystemInstruction()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        ChatMessage[] messages =
        [
            new(ChatRole.System, "You are terse."),
            new(ChatRole.User, "Hi"),
        ];

        // When
        await client.GetResponseAsync(messages, new ChatOptions { Instructions = "Answer in French." }, ct);

        // Then
        var body = GeminiWire.Body(server.LastRequest);
        var parts = body.GetProperty("systemInstruction").GetProperty("parts");
        Assert.Equal("Answer in French.", parts[0].GetProperty("text").GetString());
        Assert.Equal("You are terse.", parts[1].GetProperty("text").GetString());
        var contents = body.GetProperty("contents");
        Assert.Equal(1, contents.GetArrayLength());
        Assert.Equal("user", contents[0].GetProperty("role").GetString());
        Assert.Equal("Hi", contents[0].GetProperty("parts")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_MultiTurnHistory_UsesUserAndModelRolesMergesTurnsAndDropsEmptyMessages()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "One"),
            new(ChatRole.User, "Two"),
            new(ChatRole.Assistant, string.Empty),
            new(ChatRole.Assistant, [new TextReasoningContent("private thoughts"), new TextContent("Three")]),
            new(ChatRole.User, "Four"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: ct);

        // Then
        var contents = GeminiWire.Body(server.LastRequest).GetProperty("contents");
        Assert.Equal(3, contents.GetArrayLength());
        Assert.Equal("user", contents[0].GetProperty("role").GetString());
        Assert.Equal(["One", "Two"], contents[0].GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
        Assert.Equal("model", contents[1].GetProperty("role").GetString());
        var modelParts = contents[1].GetProperty("parts");
        Assert.Equal(1, modelParts.GetArrayLength());
        Assert.Equal("Three", modelParts[0].GetProperty("text").GetString());
        Assert.Equal("user", contents[2].GetProperty("role").GetString());
        Assert.All(contents.EnumerateArray(), c => Assert.True(c.GetProperty("parts").GetArrayLength() > 0));
    }

    [Fact]
    public async Task GetResponseAsync_ToolRoundTrip_NamesResponsesAndGroupsParallelResultsInOneUserContent()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("It is sunny in both."), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var paris = new FunctionCallContent("call_a", "weather", new Dictionary<string, object?> { ["city"] = "Paris" });
        paris.AdditionalProperties = new() { ["thoughtSignature"] = "c2lnbmF0dXJl" };
        var rome = new FunctionCallContent("call_b", "time", new Dictionary<string, object?> { ["city"] = "Rome", ["utc"] = true });
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather in Paris and time in Rome?"),
            new(ChatRole.Assistant, [paris, rome]),
            new(ChatRole.Tool, [new FunctionResultContent("call_a", JsonDocument.Parse("""{"sky":"sunny"}""").RootElement)]),
            new(ChatRole.Tool, [new FunctionResultContent("call_b", "12:00")]),
        ];

        // When
        var response = await client.GetResponseAsync(messages, cancellationToken: ct);

        // Then
        Assert.Equal("It is sunny in both.", response.Text);
        var contents = GeminiWire.Body(server.LastRequest).GetProperty("contents");
        Assert.Equal(3, contents.GetArrayLength());

        var calls = contents[1].GetProperty("parts");
        Assert.Equal("model", contents[1].GetProperty("role").GetString());
        Assert.Equal("weather", calls[0].GetProperty("functionCall").GetProperty("name").GetString());
        Assert.Equal("Paris", calls[0].GetProperty("functionCall").GetProperty("args").GetProperty("city").GetString());
        Assert.Equal("c2lnbmF0dXJl", calls[0].GetProperty("thoughtSignature").GetString());
        Assert.True(calls[1].GetProperty("functionCall").GetProperty("args").GetProperty("utc").GetBoolean());
        Assert.False(calls[1].TryGetProperty("thoughtSignature", out _));

        var results = contents[2];
        Assert.Equal("user", results.GetProperty("role").GetString());
        var parts = results.GetProperty("parts");
        Assert.Equal(2, parts.GetArrayLength());
        Assert.Equal("weather", parts[0].GetProperty("functionResponse").GetProperty("name").GetString());
        Assert.Equal("sunny", parts[0].GetProperty("functionResponse").GetProperty("response").GetProperty("sky").GetString());
        Assert.Equal("time", parts[1].GetProperty("functionResponse").GetProperty("name").GetString());
        Assert.Equal("12:00", parts[1].GetProperty("functionResponse").GetProperty("response").GetProperty("result").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_FunctionResultValues_AlwaysSendAnObjectResponse()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Go"),
            new(ChatRole.Assistant, [
                new FunctionCallContent("1", "count", null),
                new FunctionCallContent("2", "list", null),
                new FunctionCallContent("3", "json_text", null),
                new FunctionCallContent("4", "broken", null),
            ]),
            new(ChatRole.Tool, [
                new FunctionResultContent("1", 42),
                new FunctionResultContent("2", new[] { "a", "b" }),
                new FunctionResultContent("3", """{"ok": true}"""),
                new FunctionResultContent("4", null) { Exception = new InvalidOperationException("disk full") },
            ]),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: ct);

        // Then
        var contents = GeminiWire.Body(server.LastRequest).GetProperty("contents");
        Assert.Equal(JsonValueKind.Object, contents[1].GetProperty("parts")[0].GetProperty("functionCall").GetProperty("args").ValueKind);
        var parts = contents[2].GetProperty("parts");
        JsonElement Response(int i) => parts[i].GetProperty("functionResponse").GetProperty("response");
        Assert.Equal(42, Response(0).GetProperty("result").GetInt32());
        Assert.Equal(2, Response(1).GetProperty("result").GetArrayLength());
        Assert.True(Response(2).GetProperty("ok").GetBoolean());
        Assert.Equal("disk full", Response(3).GetProperty("error").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_ResultWithoutKnownCall_FallsBackToItsOwnName()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var result = new FunctionResultContent("orphan", "done") { AdditionalProperties = new() { ["name"] = "cleanup" } };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.Tool, [result])], cancellationToken: ct);

        // Then
        var part = GeminiWire.Body(server.LastRequest).GetProperty("contents")[0].GetProperty("parts")[0];
        Assert.Equal("cleanup", part.GetProperty("functionResponse").GetProperty("name").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_ImageContent_SentAsInlineDataAndFileData()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("A dot."), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var message = new ChatMessage(ChatRole.User, [
            new TextContent("What is this?"),
            new DataContent(new byte[] { 1, 2, 3 }, "image/png"),
            new UriContent(new Uri("https://example.com/cat.jpg"), "image/jpeg"),
        ]);

        // When
        await client.GetResponseAsync([message], cancellationToken: ct);

        // Then
        var parts = GeminiWire.Body(server.LastRequest).GetProperty("contents")[0].GetProperty("parts");
        Assert.Equal("image/png", parts[1].GetProperty("inlineData").GetProperty("mimeType").GetString());
        Assert.Equal("AQID", parts[1].GetProperty("inlineData").GetProperty("data").GetString());
        Assert.Equal("https://example.com/cat.jpg", parts[2].GetProperty("fileData").GetProperty("fileUri").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_AllOptions_MapToGenerationConfig()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var options = new ChatOptions
        {
            Temperature = 0.3f,
            TopP = 0.9f,
            TopK = 40,
            MaxOutputTokens = 512,
            StopSequences = ["END", "STOP"],
            Seed = 7,
            PresencePenalty = 0.5f,
            FrequencyPenalty = 0.25f,
            Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High, Output = ReasoningOutput.Full },
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options, ct);

        // Then
        var config = GeminiWire.Body(server.LastRequest).GetProperty("generationConfig");
        Assert.Equal(0.3, config.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(0.9, config.GetProperty("topP").GetDouble(), 3);
        Assert.Equal(40, config.GetProperty("topK").GetInt32());
        Assert.Equal(512, config.GetProperty("maxOutputTokens").GetInt32());
        Assert.Equal(["END", "STOP"], config.GetProperty("stopSequences").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(1, config.GetProperty("candidateCount").GetInt32());
        Assert.Equal(7, config.GetProperty("seed").GetInt32());
        Assert.Equal(0.5, config.GetProperty("presencePenalty").GetDouble(), 3);
        Assert.Equal(0.25, config.GetProperty("frequencyPenalty").GetDouble(), 3);
        Assert.True(config.GetProperty("thinkingConfig").GetProperty("includeThoughts").GetBoolean());
        Assert.Equal("high", config.GetProperty("thinkingConfig").GetProperty("thinkingLevel").GetString());
        Assert.False(config.TryGetProperty("responseMimeType", out _));
    }

    [Fact]
    public async Task GetResponseAsync_NoOptions_TakesTemperatureFromSettings()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = new GeminiChatClient(new ProviderSettings { Name = "gemini", BaseUrl = server.BaseAddress, Model = "gemini-2.0-flash", Temperature = 1.5 });

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        var body = GeminiWire.Body(server.LastRequest);
        Assert.Equal(1.5, body.GetProperty("generationConfig").GetProperty("temperature").GetDouble(), 3);
        Assert.False(body.TryGetProperty("tools", out _));
        Assert.False(body.TryGetProperty("systemInstruction", out _));
    }

    [Fact]
    public async Task GetResponseAsync_JsonSchemaResponseFormat_SendsResponseJsonSchema()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("""{"name":"Ada"}"""), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var schema = JsonDocument.Parse("""
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}
            """).RootElement;
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "person") };

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Name someone")], options, ct);

        // Then
        Assert.Equal("""{"name":"Ada"}""", response.Text);
        var config = GeminiWire.Body(server.LastRequest).GetProperty("generationConfig");
        Assert.Equal("application/json", config.GetProperty("responseMimeType").GetString());
        var sent = config.GetProperty("responseJsonSchema");
        Assert.False(sent.TryGetProperty("$schema", out _));
        Assert.Equal("object", sent.GetProperty("type").GetString());
        Assert.Equal("name", sent.GetProperty("required")[0].GetString());
    }

    [Fact]
    public async Task GetResponseAsync_JsonModeWithoutSchema_SendsOnlyMimeType()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("{}"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "JSON please")], new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, ct);

        // Then
        var config = GeminiWire.Body(server.LastRequest).GetProperty("generationConfig");
        Assert.Equal("application/json", config.GetProperty("responseMimeType").GetString());
        Assert.False(config.TryGetProperty("responseJsonSchema", out _));
    }

    [Fact]
    public async Task GetResponseAsync_ToolDefinitions_SentAsFunctionDeclarationsWithJsonSchema()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("get_weather", "Gets the weather.", JsonDocument.Parse("""
                {"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}
                """).RootElement)],
            ToolMode = ChatToolMode.Auto,
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], options, ct);

        // Then
        var body = GeminiWire.Body(server.LastRequest);
        var declaration = body.GetProperty("tools")[0].GetProperty("functionDeclarations")[0];
        Assert.Equal("get_weather", declaration.GetProperty("name").GetString());
        Assert.Equal("Gets the weather.", declaration.GetProperty("description").GetString());
        var parameters = declaration.GetProperty("parametersJsonSchema");
        Assert.False(parameters.TryGetProperty("$schema", out _));
        Assert.Equal("string", parameters.GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("AUTO", body.GetProperty("toolConfig").GetProperty("functionCallingConfig").GetProperty("mode").GetString());
    }

    public static TheoryData<string, string, string?> ToolModes => new()
    {
        { "none", "NONE", null },
        { "auto", "AUTO", null },
        { "any", "ANY", null },
        { "specific", "ANY", "get_weather" },
    };

    [Theory]
    [MemberData(nameof(ToolModes))]
    public async Task GetResponseAsync_ToolMode_MapsToFunctionCallingConfig(string mode, string expectedMode, string? expectedName)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("ok"), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.CreateDeclaration("get_weather", null, JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement)],
            ToolMode = mode switch
            {
                "none" => ChatToolMode.None,
                "auto" => ChatToolMode.Auto,
                "any" => ChatToolMode.RequireAny,
                _ => ChatToolMode.RequireSpecific("get_weather"),
            },
        };

        // When
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], options, ct);

        // Then
        var config = GeminiWire.Body(server.LastRequest).GetProperty("toolConfig").GetProperty("functionCallingConfig");
        Assert.Equal(expectedMode, config.GetProperty("mode").GetString());
        if (expectedName is null)
        {
            Assert.False(config.TryGetProperty("allowedFunctionNames", out _));
        }
        else
        {
            Assert.Equal(expectedName, config.GetProperty("allowedFunctionNames")[0].GetString());
        }
    }

    [Fact]
    public async Task GetResponseAsync_FunctionCallAnswer_SynthesizesUniqueIdsAndFinishesToolCalls()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string Body = """
            {"candidates":[{"content":{"role":"model","parts":[
              {"functionCall":{"name":"sum","args":{"x":1,"y":2}},"thoughtSignature":"sig-1"},
              {"functionCall":{"name":"sum","args":{"x":3,"y":4}}},
              {"functionCall":{"name":"now"}}
            ]},"finishReason":"STOP"}]}
            """;
        await using var server = await GeminiWire.StartJsonAsync(Body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Add")], cancellationToken: ct);

        // Then
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var calls = response.Messages.Single().Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal(3, calls.Select(c => c.CallId).Distinct().Count());
        Assert.All(calls, c => Assert.False(string.IsNullOrEmpty(c.CallId)));
        Assert.Equal(1, ((JsonElement)calls[0].Arguments!["x"]!).GetInt32());
        Assert.Equal("sig-1", calls[0].AdditionalProperties!["thoughtSignature"]);
        Assert.Empty(calls[2].Arguments!);
        Assert.Equal("gemini-2.0-flash", response.ModelId);
    }

    [Fact]
    public async Task GetResponseAsync_CallsFromTwoResponses_NeverShareAnId()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string Body = """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"now","args":{}}}]},"finishReason":"STOP"}]}""";
        await using var server = await GeminiWire.StartJsonAsync(Body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var first = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "a")], cancellationToken: ct);
        var second = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "b")], cancellationToken: ct);

        // Then
        var firstId = first.Messages[0].Contents.OfType<FunctionCallContent>().Single().CallId;
        var secondId = second.Messages[0].Contents.OfType<FunctionCallContent>().Single().CallId;
        Assert.NotEqual(firstId, secondId);
    }

    [Fact]
    public async Task GetResponseAsync_ResponseCallReplayedAsHistory_KeepsThoughtSignature()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string CallBody = """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"now","args":{}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}]}""";
        await using var server = await GeminiWire.StartJsonAsync(CallBody, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);
        List<ChatMessage> history = [new(ChatRole.User, "What time is it?")];
        var first = await client.GetResponseAsync(history, cancellationToken: ct);
        history.AddRange(first.Messages);
        var call = first.Messages[0].Contents.OfType<FunctionCallContent>().Single();
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, "noon")]));

        // When
        await client.GetResponseAsync(history, cancellationToken: ct);

        // Then
        var contents = GeminiWire.Body(server.LastRequest).GetProperty("contents");
        Assert.Equal("c2ln", contents[1].GetProperty("parts")[0].GetProperty("thoughtSignature").GetString());
        Assert.Equal("now", contents[2].GetProperty("parts")[0].GetProperty("functionResponse").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("STOP", "stop")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("PROHIBITED_CONTENT", "content_filter")]
    [InlineData("BLOCKLIST", "content_filter")]
    [InlineData("SPII", "content_filter")]
    [InlineData("MALFORMED_FUNCTION_CALL", "MALFORMED_FUNCTION_CALL")]
    public async Task GetResponseAsync_FinishReason_Maps(string wire, string expected)
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync(GeminiWire.TextResponse("text", wire), cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.Equal(expected, response.FinishReason?.Value);
    }

    [Fact]
    public async Task GetResponseAsync_SafetyFinishWithoutContent_ReturnsContentFilterNotException()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync("""{"candidates":[{"finishReason":"SAFETY","index":0}],"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}""", cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct);

        // Then
        Assert.Equal(ChatFinishReason.ContentFilter, response.FinishReason);
        Assert.Empty(response.Text);
        Assert.Equal(4, response.Usage!.InputTokenCount);
        Assert.Null(response.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_BlockedPrompt_ThrowsContentFilterWithReason()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GeminiWire.StartJsonAsync("""{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}""", cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: ct));

        // Then
        Assert.Equal(ProviderErrorKind.ContentFilter, exception.Kind);
        Assert.Contains("PROHIBITED_CONTENT", exception.Message, StringComparison.Ordinal);
        Assert.Equal("gemini", exception.Provider);
    }

    [Fact]
    public async Task GetResponseAsync_UsageWithThoughtsAndCache_CountsThoughtsAsOutput()
    {
        // Given
        var ct = TestContext.Current.CancellationToken;
        const string Body = """
            {"candidates":[{"content":{"role":"model","parts":[{"text":"Let me think.","thought":true},{"text":"42"}]},"finishReason":"STOP"}],
             "usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":10,"thoughtsTokenCount":50,"cachedContentTokenCount":80,"totalTokenCount":160},
             "modelVersion":"gemini-2.5-pro","responseId":"r-9"}
            """;
        await using var server = await GeminiWire.StartJsonAsync(Body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Answer?")], cancellationToken: ct);

        // Then
        Assert.Equal("42", response.Text);
        var reasoning = Assert.Single(response.Messages[0].Contents.OfType<TextReasoningContent>());
        Assert.Equal("Let me think.", reasoning.Text);
        Assert.Equal(100, response.Usage!.InputTokenCount);
        Assert.Equal(60, response.Usage.OutputTokenCount);
        Assert.Equal(50, response.Usage.ReasoningTokenCount);
        Assert.Equal(80, response.Usage.CachedInputTokenCount);
        Assert.Equal(160, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_UsageWithToolUsePrompt_CountsToolUseAsInput()
    {
        // Given: a grounded answer; Google reports the search results the model read as toolUsePromptTokenCount,
        // outside promptTokenCount and inside totalTokenCount
        var ct = TestContext.Current.CancellationToken;
        const string Body = """
            {"candidates":[{"content":{"role":"model","parts":[{"text":"Sunny."}]},"finishReason":"STOP"}],
             "usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":5,"toolUsePromptTokenCount":300,"thoughtsTokenCount":20,"totalTokenCount":337},
             "modelVersion":"gemini-2.5-flash","responseId":"r-10"}
            """;
        await using var server = await GeminiWire.StartJsonAsync(Body, cancellationToken: ct);
        using var client = GeminiWire.NewClient(server);

        // When
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], cancellationToken: ct);

        // Then: input + output equals Google's total
        Assert.Equal(312, response.Usage!.InputTokenCount);
        Assert.Equal(25, response.Usage.OutputTokenCount);
        Assert.Equal(337, response.Usage.TotalTokenCount);
        Assert.Equal(300, response.Usage.AdditionalCounts!["toolUsePromptTokenCount"]);
    }

    [Fact]
    public void GetService_Metadata_ReturnsProviderAndModel()
    {
        // Given
        using var client = new GeminiChatClient(new ProviderSettings { Name = "gemini", BaseUrl = new Uri("https://generativelanguage.googleapis.com"), Model = "gemini-2.5-flash" });

        // When
        var metadata = client.GetService<ChatClientMetadata>();
        var lister = client.GetService<IModelLister>();

        // Then
        Assert.Equal("gemini", metadata!.ProviderName);
        Assert.Equal("gemini-2.5-flash", metadata.DefaultModelId);
        Assert.Equal(new Uri("https://generativelanguage.googleapis.com"), metadata.ProviderUri);
        Assert.Same(client, lister);
    }
}
