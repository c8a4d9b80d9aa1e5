using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.OpenAI;

public sealed class OpenAIChatClientRequestTests
{
    private static readonly string PlainAnswer = OpenAIWire.Completion("""{"role":"assistant","content":"Hi"}""");

    [Fact]
    public async Task GetResponseAsync_PlainPrompt_PostsChatCompletionsWithBearerKeyAndModel()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        await client.GetResponseAsync("Hello", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var request = server.LastRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/chat/completions", request.PathAndQuery);
        Assert.Equal($"Bearer {OpenAIWire.ApiKey}", request.Headers["Authorization"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        var body = OpenAIWire.Body(request);
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.False(body.TryGetProperty("stream", out _));
        var message = Assert.Single(body.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("Hello", message.GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("v1", "/v1/chat/completions")]
    [InlineData("v1/", "/v1/chat/completions")]
    [InlineData("api/openai/v1", "/api/openai/v1/chat/completions")]
    public async Task GetResponseAsync_BaseUrlWithOrWithoutSlash_KeepsVersionPath(string basePath, string expected)
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { BaseUrl = new Uri(server.BaseAddress, basePath) });

        // When
        await client.GetResponseAsync("Hello", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expected, server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_NoApiKey_SendsNoAuthorizationHeader()
    {
        // Given a local server that needs no key
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "lmstudio", ApiKey = null });

        // When
        await client.GetResponseAsync("Hello", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.False(server.LastRequest.Headers.ContainsKey("Authorization"));
        Assert.False(server.LastRequest.Headers.ContainsKey("api-key"));
    }

    [Fact]
    public async Task GetResponseAsync_OrganizationAndOpenRouter_SendsExtraHeaders()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with
        {
            Name = "openrouter",
            Values = OpenAIWire.Values(("organization", "org-123"), ("http_referer", "https://example.org")),
        });

        // When
        await client.GetResponseAsync("Hello", cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var headers = server.LastRequest.Headers;
        Assert.Equal("org-123", headers["OpenAI-Organization"]);
        Assert.Equal("Ally", headers["X-Title"]);
        Assert.Equal("https://example.org", headers["HTTP-Referer"]);
    }

    [Fact]
    public async Task GetResponseAsync_Azure_UsesDeploymentPathApiVersionAndApiKeyHeader()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Model = "my-gpt4o" }, azure: true);

        // When
        await client.GetResponseAsync("Hello", new ChatOptions { MaxOutputTokens = 50 }, TestContext.Current.CancellationToken);

        // Then
        var request = server.LastRequest;
        Assert.Equal("/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21", request.PathAndQuery);
        Assert.Equal(OpenAIWire.ApiKey, request.Headers["api-key"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));
        Assert.Equal(50, OpenAIWire.Body(request).GetProperty("max_completion_tokens").GetInt32());
    }

    [Fact]
    public async Task GetResponseAsync_AzureDeploymentAndApiVersionValues_Win()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(
            server,
            s => s with { Values = OpenAIWire.Values(("deployment", "prod-deploy"), ("api_version", "2025-01-01-preview")) },
            azure: true);

        // When
        await client.GetResponseAsync("Hello", new ChatOptions { ModelId = "ignored" }, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("/openai/deployments/prod-deploy/chat/completions?api-version=2025-01-01-preview", server.LastRequest.PathAndQuery);
    }

    [Fact]
    public async Task GetResponseAsync_InstructionsAndSystemMessages_SendSystemRoleFirst()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        ChatMessage[] messages = [new(ChatRole.System, "Be terse."), new(ChatRole.User, "Hi")];

        // When
        await client.GetResponseAsync(messages, new ChatOptions { Instructions = "You are Ally." }, TestContext.Current.CancellationToken);

        // Then
        var sent = OpenAIWire.Body(server.LastRequest).GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(3, sent.Count);
        Assert.Equal(("system", "You are Ally."), (sent[0].GetProperty("role").GetString(), sent[0].GetProperty("content").GetString()));
        Assert.Equal(("system", "Be terse."), (sent[1].GetProperty("role").GetString(), sent[1].GetProperty("content").GetString()));
        Assert.Equal("user", sent[2].GetProperty("role").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_HistoryWithToolCalls_SendsToolCallsAsJsonStringAndResultsByCallId()
    {
        // Given a history whose call ids came from other providers
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather in Paris and Oslo?"),
            new(ChatRole.Assistant,
            [
                new TextReasoningContent("thinking about it"),
                new FunctionCallContent("toolu_01A", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }),
                new FunctionCallContent("gSIMJiOkT", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo", ["days"] = 2 }),
            ]),
            new(ChatRole.Tool,
            [
                new FunctionResultContent("toolu_01A", "sunny"),
                new FunctionResultContent("gSIMJiOkT", new Dictionary<string, object?> { ["sky"] = "rain" }),
            ]),
            new(ChatRole.Assistant, "Paris is sunny, Oslo rainy."),
            new(ChatRole.User, "Thanks"),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var sent = OpenAIWire.Body(server.LastRequest).GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "tool", "tool", "assistant", "user"], sent.Select(m => m.GetProperty("role").GetString()));
        var assistant = sent[1];
        Assert.Equal(JsonValueKind.Null, assistant.GetProperty("content").ValueKind);
        var calls = assistant.GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal("toolu_01A", calls[0].GetProperty("id").GetString());
        Assert.Equal("function", calls[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city":"Paris"}""", calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("""{"city":"Oslo","days":2}""", calls[1].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("toolu_01A", sent[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("sunny", sent[2].GetProperty("content").GetString());
        Assert.Equal("gSIMJiOkT", sent[3].GetProperty("tool_call_id").GetString());
        Assert.Equal("""{"sky":"rain"}""", sent[3].GetProperty("content").GetString());
        Assert.Equal("Paris is sunny, Oslo rainy.", sent[4].GetProperty("content").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_CallsAndResultsWithoutIds_GetConsistentSyntheticIds()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Go"),
            new(ChatRole.Assistant, [new FunctionCallContent(string.Empty, "first"), new FunctionCallContent("call_b", "second")]),
            new(ChatRole.Tool, [new FunctionResultContent(string.Empty, "one"), new FunctionResultContent(string.Empty, "two")]),
        ];

        // When
        await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var sent = OpenAIWire.Body(server.LastRequest).GetProperty("messages").EnumerateArray().ToList();
        var ids = sent[1].GetProperty("tool_calls").EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.False(string.IsNullOrEmpty(ids[0]));
        Assert.Equal("call_b", ids[1]);
        Assert.Equal(ids[0], sent[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("call_b", sent[3].GetProperty("tool_call_id").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_UserImages_SendsContentPartsWithImageUrls()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        var message = new ChatMessage(ChatRole.User,
        [
            new TextContent("What is this?"),
            new DataContent(new byte[] { 1, 2, 3 }, "image/png"),
            new UriContent(new Uri("https://example.org/cat.jpg"), "image/jpeg"),
        ]);

        // When
        await client.GetResponseAsync([message], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        var parts = OpenAIWire.Body(server.LastRequest).GetProperty("messages")[0].GetProperty("content").EnumerateArray().ToList();
        Assert.Equal("text", parts[0].GetProperty("type").GetString());
        Assert.Equal("image_url", parts[1].GetProperty("type").GetString());
        Assert.Equal("data:image/png;base64,AQID", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("https://example.org/cat.jpg", parts[2].GetProperty("image_url").GetProperty("url").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_Tools_SendsFunctionDefinitionsToolChoiceAndParallelFlag()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        var options = new ChatOptions
        {
            Tools = [WeatherTool()],
            ToolMode = ChatToolMode.RequireSpecific("get_weather"),
            AllowMultipleToolCalls = false,
        };

        // When
        await client.GetResponseAsync("Weather?", options, TestContext.Current.CancellationToken);

        // Then
        var body = OpenAIWire.Body(server.LastRequest);
        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("function", tool.GetProperty("type").GetString());
        var function = tool.GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        Assert.Equal("Gets the weather", function.GetProperty("description").GetString());
        Assert.Equal("string", function.GetProperty("parameters").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("""{"type":"function","function":{"name":"get_weather"}}""", body.GetProperty("tool_choice").GetRawText());
        Assert.False(body.GetProperty("parallel_tool_calls").GetBoolean());
    }

    [Theory]
    [InlineData("auto", "auto")]
    [InlineData("none", "none")]
    [InlineData("required", "required")]
    public async Task GetResponseAsync_ToolMode_MapsToToolChoice(string mode, string expected)
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        var options = new ChatOptions
        {
            Tools = [WeatherTool()],
            ToolMode = mode switch { "auto" => ChatToolMode.Auto, "none" => ChatToolMode.None, _ => ChatToolMode.RequireAny },
        };

        // When
        await client.GetResponseAsync("Weather?", options, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(expected, OpenAIWire.Body(server.LastRequest).GetProperty("tool_choice").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_NoTools_SendsNoToolChoiceOrParallelFlag()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        await client.GetResponseAsync("Hi", new ChatOptions { ToolMode = ChatToolMode.Auto, AllowMultipleToolCalls = true }, TestContext.Current.CancellationToken);

        // Then
        var body = OpenAIWire.Body(server.LastRequest);
        Assert.False(body.TryGetProperty("tools", out _));
        Assert.False(body.TryGetProperty("tool_choice", out _));
        Assert.False(body.TryGetProperty("parallel_tool_calls", out _));
    }

    [Fact]
    public async Task GetResponseAsync_JsonSchemaFormat_SendsStrictJsonSchema()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}""");
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement, "person", "A person") };

        // When
        await client.GetResponseAsync("Who?", options, TestContext.Current.CancellationToken);

        // Then
        var format = OpenAIWire.Body(server.LastRequest).GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var jsonSchema = format.GetProperty("json_schema");
        Assert.Equal("person", jsonSchema.GetProperty("name").GetString());
        Assert.Equal("A person", jsonSchema.GetProperty("description").GetString());
        Assert.True(jsonSchema.GetProperty("strict").GetBoolean());
        Assert.Equal("object", jsonSchema.GetProperty("schema").GetProperty("type").GetString());
    }

    [Fact]
    public async Task GetResponseAsync_JsonFormatWithoutSchema_SendsJsonObject()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        await client.GetResponseAsync("JSON please", new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("""{"type":"json_object"}""", OpenAIWire.Body(server.LastRequest).GetProperty("response_format").GetRawText());
    }

    [Fact]
    public async Task GetResponseAsync_SamplingOptions_AreMappedForOpenAI()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);
        var options = new ChatOptions
        {
            ModelId = "gpt-4.1",
            Temperature = 0.25f,
            MaxOutputTokens = 256,
            TopP = 0.5f,
            TopK = 40,
            StopSequences = ["END", "STOP"],
            FrequencyPenalty = 0.1f,
            PresencePenalty = 0.2f,
            Seed = 42,
        };

        // When
        await client.GetResponseAsync("Hi", options, TestContext.Current.CancellationToken);

        // Then
        var body = OpenAIWire.Body(server.LastRequest);
        Assert.Equal("gpt-4.1", body.GetProperty("model").GetString());
        Assert.Equal(0.25, body.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(256, body.GetProperty("max_completion_tokens").GetInt32());
        Assert.False(body.TryGetProperty("max_tokens", out _));
        Assert.Equal(0.5, body.GetProperty("top_p").GetDouble(), 3);
        Assert.False(body.TryGetProperty("top_k", out _));
        Assert.Equal(["END", "STOP"], body.GetProperty("stop").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(0.1, body.GetProperty("frequency_penalty").GetDouble(), 3);
        Assert.Equal(0.2, body.GetProperty("presence_penalty").GetDouble(), 3);
        Assert.Equal(42, body.GetProperty("seed").GetInt64());
    }

    [Fact]
    public async Task GetResponseAsync_CompatibleProvider_SendsMaxTokensAndConfigTemperature()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(c => OpenAIWire.WriteJsonAsync(c, PlainAnswer), TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server, s => s with { Name = "groq", Temperature = 0.7 });

        // When
        await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 100 }, TestContext.Current.CancellationToken);

        // Then
        var body = OpenAIWire.Body(server.LastRequest);
        Assert.Equal(100, body.GetProperty("max_tokens").GetInt32());
        Assert.False(body.TryGetProperty("max_completion_tokens", out _));
        Assert.Equal(0.7, body.GetProperty("temperature").GetDouble(), 3);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Always_AsksForStreamWithUsage()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            c => OpenAIWire.WriteSseAsync(c, OpenAIWire.Sse(OpenAIWire.Chunk("""{"content":"Hi"}""", "stop"))),
            TestContext.Current.CancellationToken);
        using var client = OpenAIWire.CreateClient(server);

        // When
        await foreach (var update in client.GetStreamingResponseAsync("Hi", cancellationToken: TestContext.Current.CancellationToken))
        {
            _ = update;
        }

        // Then
        var body = OpenAIWire.Body(server.LastRequest);
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("text/event-stream", server.LastRequest.Headers["Accept"]);
    }

    [Fact]
    public void GetService_Metadata_ReportsProviderBaseUrlAndModel()
    {
        // Given
        var settings = new Ally.Abstractions.ProviderSettings { Name = "groq", BaseUrl = new Uri("https://api.groq.com/openai/v1"), Model = "llama-3.3-70b-versatile" };
        using var client = new Ally.Host.Providers.OpenAI.OpenAIChatClient(settings, azure: false);

        // When
        var metadata = client.GetService<ChatClientMetadata>();

        // Then
        Assert.NotNull(metadata);
        Assert.Equal("groq", metadata.ProviderName);
        Assert.Equal(settings.BaseUrl, metadata.ProviderUri);
        Assert.Equal("llama-3.3-70b-versatile", metadata.DefaultModelId);
        Assert.Same(client, client.GetService<Ally.Abstractions.IModelLister>());
    }

    private static AIFunctionDeclaration WeatherTool()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");
        return AIFunctionFactory.CreateDeclaration("get_weather", "Gets the weather", schema.RootElement.Clone());
    }
}
