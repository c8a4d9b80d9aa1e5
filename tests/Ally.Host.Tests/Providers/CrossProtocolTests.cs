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
    public async Task Conversation_MovedBetweenProtocols_IsValidForTarget(string fromName, string toName)
    {
        var from = Enum.Parse<ProviderProtocol>(fromName);
        var to = Enum.Parse<ProviderProtocol>(toName);
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await FakeProviderServer.StartAsync(cancellationToken);

        // Given a conversation in which the source protocol's model called a tool, and the tool answered
        using var source = Client(from, server);
        List<ChatMessage> history = [new(ChatRole.User, "What is the weather in Paris?")];
        var first = await source.GetResponseAsync(history, new ChatOptions { Tools = [WeatherTool] }, cancellationToken);
        history.AddRange(first.Messages);
        var call = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, "18 degrees and sunny")]));
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
                AssertOpenAI(body.RootElement);
                break;
            case ProviderProtocol.Anthropic:
                AssertAnthropic(body.RootElement);
                break;
            case ProviderProtocol.Gemini:
                AssertGemini(body.RootElement);
                break;
            default:
                AssertOllama(body.RootElement);
                break;
        }
    }

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

    private static void AssertOpenAI(JsonElement body)
    {
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        var assistant = messages.Single(m => m.GetProperty("role").GetString() == "assistant");
        var toolCall = Assert.Single(assistant.GetProperty("tool_calls").EnumerateArray());
        var id = toolCall.GetProperty("id").GetString();
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal("function", toolCall.GetProperty("type").GetString());
        Assert.Equal("get_weather", toolCall.GetProperty("function").GetProperty("name").GetString());
        using (var arguments = JsonDocument.Parse(toolCall.GetProperty("function").GetProperty("arguments").GetString()!))
        {
            Assert.Equal("Paris", arguments.RootElement.GetProperty("city").GetString());
        }

        var toolIndex = messages.FindIndex(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal(messages.IndexOf(assistant) + 1, toolIndex);
        Assert.Equal(id, messages[toolIndex].GetProperty("tool_call_id").GetString());
        Assert.Equal("user", messages[^1].GetProperty("role").GetString());
    }

    private static void AssertAnthropic(JsonElement body)
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
        var toolUse = messages[assistantIndex].GetProperty("content").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "tool_use");
        var id = toolUse.GetProperty("id").GetString()!;
        Assert.Matches(AnthropicToolId(), id);
        Assert.Equal("Paris", toolUse.GetProperty("input").GetProperty("city").GetString());
        var next = messages[assistantIndex + 1];
        Assert.Equal("user", next.GetProperty("role").GetString());
        var result = next.GetProperty("content").EnumerateArray().First();
        Assert.Equal("tool_result", result.GetProperty("type").GetString());
        Assert.Equal(id, result.GetProperty("tool_use_id").GetString());
        Assert.True(body.TryGetProperty("max_tokens", out _));
    }

    private static void AssertGemini(JsonElement body)
    {
        var contents = body.GetProperty("contents").EnumerateArray().ToList();
        Assert.All(contents, c => Assert.Contains(c.GetProperty("role").GetString(), new[] { "user", "model" }));
        Assert.All(contents, c => Assert.NotEmpty(c.GetProperty("parts").EnumerateArray()));
        var modelIndex = contents.FindIndex(c => c.GetProperty("parts").EnumerateArray().Any(p => p.TryGetProperty("functionCall", out _)));
        Assert.Equal("model", contents[modelIndex].GetProperty("role").GetString());
        var functionCall = contents[modelIndex].GetProperty("parts").EnumerateArray().Single(p => p.TryGetProperty("functionCall", out _)).GetProperty("functionCall");
        Assert.Equal("get_weather", functionCall.GetProperty("name").GetString());
        var next = contents[modelIndex + 1];
        Assert.Equal("user", next.GetProperty("role").GetString());
        var response = next.GetProperty("parts").EnumerateArray().Single(p => p.TryGetProperty("functionResponse", out _)).GetProperty("functionResponse");
        Assert.Equal("get_weather", response.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, response.GetProperty("response").ValueKind);
    }

    private static void AssertOllama(JsonElement body)
    {
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        var assistantIndex = messages.FindIndex(m => m.TryGetProperty("tool_calls", out _));
        Assert.Equal("assistant", messages[assistantIndex].GetProperty("role").GetString());
        var function = Assert.Single(messages[assistantIndex].GetProperty("tool_calls").EnumerateArray()).GetProperty("function");
        Assert.Equal("get_weather", function.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, function.GetProperty("arguments").ValueKind);
        var tool = messages[assistantIndex + 1];
        Assert.Equal("tool", tool.GetProperty("role").GetString());
        Assert.Equal("get_weather", tool.GetProperty("tool_name").GetString());
        Assert.Contains("18 degrees", tool.GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]+$")]
    private static partial Regex AnthropicToolId();
}
