using System.Text.Json;
using System.Text.RegularExpressions;
using Ally.Abstractions;
using Ally.Host.Providers;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers;

/// <summary>
/// Moves one conversation with a tool call, produced by each protocol's real client, to each other protocol, and
/// checks that the request the target receives is valid for it: ids, roles, grouping and naming of tool results.
/// </summary>
public sealed partial class CrossProtocolTests
{
    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        string[] all = ["OpenAI", "Anthropic", "Gemini", "Ollama"];
        foreach (var from in all)
        {
            foreach (var to in all)
            {
                data.Add(from, to);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task Conversation_MovedBetweenProtocols_IsValidForTarget(string fromName, string toName) =>
        await MoveConversationAsync(fromName, toName, "What is the weather in Paris?", calls: 1);

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task ParallelCalls_MovedBetweenProtocols_ResultsPairedAndGroupedForTarget(string fromName, string toName) =>
        await MoveConversationAsync(fromName, toName, $"What is the weather in {FakeProviderServer.TwoCities}?", calls: 2);

    private static async Task MoveConversationAsync(string fromName, string toName, string question, int calls)
    {
        var from = Enum.Parse<ProviderProtocol>(fromName);
        var to = Enum.Parse<ProviderProtocol>(toName);
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(cancellationToken);

        // Given a conversation in which the source protocol's model called the tool (once, or twice in parallel),
        // and the tool answered every call in one tool message, as MEAI's function invocation does
        using var source = Client(from, server);
        List<ChatMessage> history = [new(ChatRole.User, question)];
        var first = await source.GetResponseAsync(history, new ChatOptions { Tools = [WeatherTool] }, cancellationToken);
        history.AddRange(first.Messages);
        var made = first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        Assert.Equal(calls, made.Count);
        Assert.Equal(calls, made.Select(c => c.CallId).Distinct(StringComparer.Ordinal).Count());
        history.Add(new ChatMessage(ChatRole.Tool, [.. made.Select(c => (AIContent)new FunctionResultContent(c.CallId, $"18 degrees and sunny in {c.Arguments!["city"]}"))]));
        history.Add(new ChatMessage(ChatRole.User, "And tomorrow?"));

        // When the conversation continues on the target protocol
        using var target = Client(to, server);
        await target.GetResponseAsync(history, new ChatOptions { Tools = [WeatherTool] }, cancellationToken);

        // Then the target's request is well formed for it
        var request = server.LastRequest;
        Assert.DoesNotContain(FakeProviderServer.Key, request.PathAndQuery, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(request.Body);
        switch (to)
        {
            case ProviderProtocol.OpenAI:
                AssertOpenAI(body.RootElement, calls);
                break;
            case ProviderProtocol.Anthropic:
                AssertAnthropic(body.RootElement, calls);
                break;
            case ProviderProtocol.Gemini:
                AssertGemini(body.RootElement, calls);
                break;
            default:
                AssertOllama(body.RootElement, calls);
                break;
        }
    }

    private static readonly string[] Cities = ["Paris", "Rome"];

    private static readonly AIFunctionDeclaration WeatherTool = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Gets the weather for a city.");

    private static IChatClient Client(ProviderProtocol protocol, LoopbackServer server)
    {
        var root = server.BaseAddress.ToString().TrimEnd('/');
        var settings = new ProviderSettings
        {
            Name = $"fake-{protocol}".ToLowerInvariant(),
            Model = "model-x",
            BaseUrl = new Uri(protocol == ProviderProtocol.OpenAI ? root + "/v1" : root),
            ApiKey = FakeProviderServer.Key,
        };
        return ProtocolClientFactory.Create(protocol, settings);
    }

    private static void AssertOpenAI(JsonElement body, int calls)
    {
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        var assistant = messages.Single(m => m.GetProperty("role").GetString() == "assistant");
        var toolCalls = assistant.GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(calls, toolCalls.Count);
        var assistantIndex = messages.IndexOf(assistant);
        for (var i = 0; i < calls; i++)
        {
            var id = toolCalls[i].GetProperty("id").GetString();
            Assert.False(string.IsNullOrEmpty(id));
            Assert.Equal("function", toolCalls[i].GetProperty("type").GetString());
            Assert.Equal("get_weather", toolCalls[i].GetProperty("function").GetProperty("name").GetString());
            using (var arguments = JsonDocument.Parse(toolCalls[i].GetProperty("function").GetProperty("arguments").GetString()!))
            {
                Assert.Equal(Cities[i], arguments.RootElement.GetProperty("city").GetString());
            }

            // Each call's result follows the assistant message at once, one tool message per call, in order.
            var tool = messages[assistantIndex + 1 + i];
            Assert.Equal("tool", tool.GetProperty("role").GetString());
            Assert.Equal(id, tool.GetProperty("tool_call_id").GetString());
            Assert.Contains(Cities[i], tool.GetProperty("content").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(calls, toolCalls.Select(c => c.GetProperty("id").GetString()).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("user", messages[^1].GetProperty("role").GetString());
    }

    private static void AssertAnthropic(JsonElement body, int calls)
    {
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal("user", messages[0].GetProperty("role").GetString());
        for (var i = 1; i < messages.Count; i++)
        {
            Assert.NotEqual(messages[i - 1].GetProperty("role").GetString(), messages[i].GetProperty("role").GetString());
        }

        foreach (var block in messages.Where(m => m.GetProperty("content").ValueKind == JsonValueKind.Array).SelectMany(m => m.GetProperty("content").EnumerateArray()))
        {
            if (block.GetProperty("type").GetString() == "text")
            {
                Assert.False(string.IsNullOrWhiteSpace(block.GetProperty("text").GetString()));
            }
        }

        var assistantIndex = messages.FindIndex(m => m.GetProperty("role").GetString() == "assistant");
        var toolUses = messages[assistantIndex].GetProperty("content").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "tool_use").ToList();
        Assert.Equal(calls, toolUses.Count);

        // Every tool_use is answered by a tool_result in the very next user message, results first, in call order.
        var next = messages[assistantIndex + 1];
        Assert.Equal("user", next.GetProperty("role").GetString());
        var blocks = next.GetProperty("content").EnumerateArray().ToList();
        for (var i = 0; i < calls; i++)
        {
            var id = toolUses[i].GetProperty("id").GetString()!;
            Assert.Matches(AnthropicToolId(), id);
            Assert.Equal(Cities[i], toolUses[i].GetProperty("input").GetProperty("city").GetString());
            Assert.Equal("tool_result", blocks[i].GetProperty("type").GetString());
            Assert.Equal(id, blocks[i].GetProperty("tool_use_id").GetString());
        }

        Assert.Equal(calls, toolUses.Select(b => b.GetProperty("id").GetString()).Distinct(StringComparer.Ordinal).Count());
        Assert.True(body.TryGetProperty("max_tokens", out _));
    }

    private static void AssertGemini(JsonElement body, int calls)
    {
        var contents = body.GetProperty("contents").EnumerateArray().ToList();
        Assert.All(contents, c => Assert.Contains(c.GetProperty("role").GetString(), new[] { "user", "model" }));
        Assert.All(contents, c => Assert.NotEmpty(c.GetProperty("parts").EnumerateArray()));
        var modelIndex = contents.FindIndex(c => c.GetProperty("parts").EnumerateArray().Any(p => p.TryGetProperty("functionCall", out _)));
        Assert.Equal("model", contents[modelIndex].GetProperty("role").GetString());
        var functionCalls = contents[modelIndex].GetProperty("parts").EnumerateArray().Where(p => p.TryGetProperty("functionCall", out _)).Select(p => p.GetProperty("functionCall")).ToList();
        Assert.Equal(calls, functionCalls.Count);

        // Parallel responses go back together, in one user content right after the model's, each naming its function.
        var next = contents[modelIndex + 1];
        Assert.Equal("user", next.GetProperty("role").GetString());
        var responses = next.GetProperty("parts").EnumerateArray().Where(p => p.TryGetProperty("functionResponse", out _)).Select(p => p.GetProperty("functionResponse")).ToList();
        Assert.Equal(calls, responses.Count);
        for (var i = 0; i < calls; i++)
        {
            Assert.Equal("get_weather", functionCalls[i].GetProperty("name").GetString());
            Assert.Equal(Cities[i], functionCalls[i].GetProperty("args").GetProperty("city").GetString());
            Assert.Equal("get_weather", responses[i].GetProperty("name").GetString());
            Assert.Equal(JsonValueKind.Object, responses[i].GetProperty("response").ValueKind);
            Assert.Contains(Cities[i], responses[i].GetProperty("response").GetRawText(), StringComparison.Ordinal);
        }
    }

    private static void AssertOllama(JsonElement body, int calls)
    {
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        var assistantIndex = messages.FindIndex(m => m.TryGetProperty("tool_calls", out _));
        Assert.Equal("assistant", messages[assistantIndex].GetProperty("role").GetString());
        var toolCalls = messages[assistantIndex].GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(calls, toolCalls.Count);
        for (var i = 0; i < calls; i++)
        {
            var function = toolCalls[i].GetProperty("function");
            Assert.Equal("get_weather", function.GetProperty("name").GetString());
            Assert.Equal(JsonValueKind.Object, function.GetProperty("arguments").ValueKind);
            Assert.Equal(Cities[i], function.GetProperty("arguments").GetProperty("city").GetString());
            var tool = messages[assistantIndex + 1 + i];
            Assert.Equal("tool", tool.GetProperty("role").GetString());
            Assert.Equal("get_weather", tool.GetProperty("tool_name").GetString());
            Assert.Contains($"18 degrees and sunny in {Cities[i]}", tool.GetProperty("content").GetString(), StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]+$")]
    private static partial Regex AnthropicToolId();
}
