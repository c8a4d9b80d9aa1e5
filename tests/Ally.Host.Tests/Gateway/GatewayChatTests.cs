#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
using System.Text.Json;
using Ally.Host.Providers.Anthropic;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

public sealed class GatewayChatTests
{
    public static TheoryData<string, string> Protocols => new()
    {
        { "oai/gpt-4o-mini", "Hello from OpenAI" },
        { "claude/claude-sonnet-4-5", "Hello from Claude" },
        { "gem/gemini-2.0-flash", "Hello from Gemini" },
        { "llama/llama3.1", "Hello from Ollama" },
    };

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CompleteChat_EveryProtocol_AnswersInOpenAISchema(string model, string expected)
    {
        // Given a gateway over fakes of all four protocols
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var chat = gateway.Sdk().GetChatClient(model);

        // When the official SDK asks through the gateway
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the answer, the finish reason, the usage and the provider/model name come back
        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.StartsWith(model.Split('/')[0] + "/", completion.Model, StringComparison.Ordinal);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.True(completion.Usage.OutputTokenCount > 0);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CompleteChatStreaming_EveryProtocol_StreamsTextUsageAndFinish(string model, string expected)
    {
        // Given
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var chat = gateway.Sdk().GetChatClient(model);
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;

        // When
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        // Then
        Assert.Equal(expected, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.True(usage.TotalTokenCount > 0);
    }

    [Fact]
    public void NewId_ManyAnswers_AreDistinctChatcmplIdsOf32HexDigits()
    {
        // When
        var ids = Enumerable.Range(0, 1000).Select(_ => Host.Gateway.CompletionHeader.NewId()).ToList();

        // Then
        Assert.All(ids, id => Assert.Matches("^chatcmpl-[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task CompleteChat_Usage_ReportsCachedAndReasoningTokens()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);

        // When
        ChatCompletion completion = await gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(26, completion.Usage.InputTokenCount);
        Assert.Equal(10, completion.Usage.OutputTokenCount);
        Assert.Equal(36, completion.Usage.TotalTokenCount);
        Assert.Equal(16, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
    }

    [Fact]
    public async Task CompleteChat_ToolsAndOptions_ReachTheProviderAndToolCallsComeBack()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);
        var options = new ChatCompletionOptions
        {
            Temperature = 0.25f,
            TopP = 0.5f,
            MaxOutputTokenCount = 123,
            Seed = 42,
            FrequencyPenalty = 0.1f,
            PresencePenalty = 0.2f,
            ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"),
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather of a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")) },
            StopSequences = { "END" },
        };

        // When
        ChatCompletion completion = await gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Weather in Paris?")], options, TestContext.Current.CancellationToken);

        // Then the tool call comes back with its arguments as a JSON string
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("call_1", call.Id);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Paris", JsonDocument.Parse(call.FunctionArguments).RootElement.GetProperty("city").GetString());

        // And the provider received every option
        var sent = JsonDocument.Parse(gateway.Upstream().LastRequest.Body).RootElement;
        Assert.Equal("gpt-4o-mini", sent.GetProperty("model").GetString());
        Assert.Equal(0.25, sent.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(0.5, sent.GetProperty("top_p").GetDouble(), 3);
        Assert.Equal(123, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal(42, sent.GetProperty("seed").GetInt64());
        Assert.Equal("END", sent.GetProperty("stop")[0].GetString());
        Assert.Equal("get_weather", sent.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("string", sent.GetProperty("tools")[0].GetProperty("function").GetProperty("parameters").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("get_weather", sent.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("system", sent.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", sent.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task CompleteChat_ToolResultsAndImages_AreSentOnAsTheProtocolWantsThem()
    {
        // Given a conversation with an image, an assistant tool call and its result
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);
        var assistant = new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_9", "get_weather", BinaryData.FromString("""{"city":"Oslo"}"""))]);
        List<ChatMessage> messages =
        [
            new UserChatMessage(ChatMessageContentPart.CreateTextPart("What is this?"), ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/cat.png"))),
            assistant,
            new ToolChatMessage("call_9", "12 degrees"),
        ];
        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("answer", BinaryData.FromString("""{"type":"object","properties":{"a":{"type":"string"}}}""")) };

        // When
        await gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync(messages, options, TestContext.Current.CancellationToken);

        // Then
        var sent = JsonDocument.Parse(gateway.Upstream().LastRequest.Body).RootElement;
        var wire = sent.GetProperty("messages");
        Assert.Equal("image_url", wire[0].GetProperty("content")[1].GetProperty("type").GetString());
        Assert.Equal("https://example.com/cat.png", wire[0].GetProperty("content")[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("call_9", wire[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal("Oslo", JsonDocument.Parse(wire[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        Assert.Equal("tool", wire[2].GetProperty("role").GetString());
        Assert.Equal("call_9", wire[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("12 degrees", wire[2].GetProperty("content").GetString());
        Assert.Equal("json_schema", sent.GetProperty("response_format").GetProperty("type").GetString());
        Assert.Equal("answer", sent.GetProperty("response_format").GetProperty("json_schema").GetProperty("name").GetString());
    }

    [Fact]
    public async Task CompleteChatStreaming_ToolCall_StreamsIdNameThenArguments()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")) } };
        string? id = null;
        string? name = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;

        // When
        await foreach (var update in gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options, TestContext.Current.CancellationToken))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                Assert.Equal(0, call.Index);
                id ??= call.ToolCallId;
                name ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        // Then
        Assert.Equal("call_1", id);
        Assert.Equal("get_weather", name);
        Assert.Equal("Paris", JsonDocument.Parse(arguments.ToString()).RootElement.GetProperty("city").GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task CompleteChat_AliasAndBareModel_ResolveToTheirProviders()
    {
        // Given an alias and a default provider
        await using var gateway = await TestGateway.StartAllProtocolsAsync(
            config =>
            {
                config["aliases"] = new System.Text.Json.Nodes.JsonObject { ["fast"] = "gem/gemini-2.0-flash" };
                config["provider"] = "llama";
            },
            TestContext.Current.CancellationToken);
        var sdk = gateway.Sdk();

        // When
        ChatCompletion viaAlias = await sdk.GetChatClient("fast").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        ChatCompletion viaBare = await sdk.GetChatClient("llama3.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // A bare model may have a slash of its own when its first segment names no provider (openai/gpt-oss-120b on Groq)
        ChatCompletion viaSlashed = await sdk.GetChatClient("meta/llama3.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("Hello from Gemini", viaAlias.Content[0].Text);
        Assert.StartsWith("gem/", viaAlias.Model, StringComparison.Ordinal);
        Assert.Equal("Hello from Ollama", viaBare.Content[0].Text);
        Assert.StartsWith("llama/", viaBare.Model, StringComparison.Ordinal);
        Assert.Equal("Hello from Ollama", viaSlashed.Content[0].Text);
        Assert.StartsWith("llama/", viaSlashed.Model, StringComparison.Ordinal);
        Assert.Equal("meta/llama3.1", JsonDocument.Parse(gateway.Upstream(3).LastRequest.Body).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task CompleteChat_NoDefaultProviderAndUnknownProvider_Is404ModelNotFound()
    {
        // Given a gateway whose config names no default provider
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), config => config.Remove("provider"), TestContext.Current.CancellationToken);

        // When
        using var response = await gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent("""{"model":"nosuch/model","messages":[{"role":"user","content":"Hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("error");
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task CompleteChat_RawRequestWithDeveloperMessageAndStopString_IsMapped()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);

        // When a client sends fields the SDK does not: a developer message, stop as a string, max_completion_tokens
        using var response = await gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent(
                """{"model":"oai/gpt-4o-mini","messages":[{"role":"developer","content":[{"type":"text","text":"Rules."}]},{"role":"user","content":"Hi"}],"stop":"END","max_completion_tokens":7,"response_format":{"type":"json_object"},"user":"u-42"}""",
                System.Text.Encoding.UTF8,
                "application/json"),
            TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var sent = JsonDocument.Parse(gateway.Upstream().LastRequest.Body).RootElement;
        Assert.Equal("Rules.", sent.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("END", sent.GetProperty("stop")[0].GetString());
        Assert.Equal(7, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal("json_object", sent.GetProperty("response_format").GetProperty("type").GetString());
    }

    [Fact]
    public async Task CompleteChat_InvalidRequests_Are400WithTheField()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);
        string[] bodies =
        [
            "not json",
            """{"messages":[{"role":"user","content":"Hi"}]}""",
            """{"model":"oai/x","messages":[]}""",
            """{"model":"oai/x","messages":[{"role":"wizard","content":"Hi"}]}""",
            """{"model":"oai/x","messages":[{"role":"user","content":"Hi"}],"temperature":7}""",
        ];

        foreach (var body in bodies)
        {
            // When
            using var response = await gateway.Http.PostAsync("v1/chat/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

            // Then
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("error");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        }

        Assert.Empty(gateway.Upstream().Requests);
    }
}
