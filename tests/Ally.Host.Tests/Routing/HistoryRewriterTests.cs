using Ally.Abstractions;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class HistoryRewriterTests
{
    private static readonly Dictionary<string, object?> Args = new() { ["path"] = "README.md" };

    [Fact]
    public void Rewrite_SameProvider_ReturnsTheConversationUnchanged()
    {
        // Given
        List<ChatMessage> messages = [new(ChatRole.User, "Hi"), new(ChatRole.Assistant, [new TextReasoningContent("thinking"), new TextContent("Hello")])];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "anthropic", "anthropic");

        // Then
        Assert.Same(messages, rewritten);
    }

    [Fact]
    public void Rewrite_ToAnotherProvider_DropsForeignReasoningAndEmptyText()
    {
        // Given
        List<ChatMessage> messages =
        [
            new(ChatRole.User, [new TextContent("Hi"), new TextContent("  ")]),
            new(ChatRole.Assistant, [new TextReasoningContent("thinking"), new TextContent(""), new TextContent("Hello")]),
            new(ChatRole.Assistant, [new TextContent("")]),
        ];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "openai", "anthropic");

        // Then
        Assert.Equal(2, rewritten.Count);
        Assert.Equal("Hi", Assert.IsType<TextContent>(Assert.Single(rewritten[0].Contents)).Text);
        Assert.Equal("Hello", Assert.IsType<TextContent>(Assert.Single(rewritten[1].Contents)).Text);
        Assert.Equal(2, messages[1].Contents.OfType<TextContent>().Count());
    }

    [Fact]
    public void Rewrite_ReasoningMarkedAsTheTargets_IsKept()
    {
        // Given: the router marked this turn as produced by google (gemini is an alias)
        var turn = new ChatMessage(ChatRole.Assistant, [new TextReasoningContent("thinking"), new TextContent("Hello")])
        {
            AdditionalProperties = new() { [HistoryRewriter.SourceKey] = "google" },
        };
        List<ChatMessage> messages = [new(ChatRole.User, "Hi"), turn, new(ChatRole.Assistant, [new TextReasoningContent("other"), new TextContent("More")])];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "gemini", "anthropic");

        // Then
        Assert.Single(rewritten[1].Contents.OfType<TextReasoningContent>());
        Assert.Empty(rewritten[2].Contents.OfType<TextReasoningContent>());
    }

    [Fact]
    public void Rewrite_ToolCallIds_BecomeValidAndResultsFollowTheirCalls()
    {
        // Given: Gemini-style calls with no usable ids, results out of place and split over two messages
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "Read two files"),
            new(ChatRole.Assistant, [new FunctionCallContent("", "read", Args), new FunctionCallContent("weird id!", "read", Args)]),
            new(ChatRole.Tool, [new FunctionResultContent("weird id!", "second")]),
            new(ChatRole.User, "and?"),
            new(ChatRole.Tool, [new FunctionResultContent("", "first")]),
        ];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "anthropic", "google");

        // Then
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.User], rewritten.Select(m => m.Role));
        var calls = rewritten[1].Contents.OfType<FunctionCallContent>().ToList();
        var results = rewritten[2].Contents.OfType<FunctionResultContent>().ToList();
        Assert.Equal(calls.Select(c => c.CallId), results.Select(r => r.CallId));
        Assert.Equal(["first", "second"], results.Select(r => r.Result));
        Assert.All(calls, c => Assert.Matches("^[A-Za-z0-9_-]{1,40}$", c.CallId));
        Assert.Equal(2, calls.Select(c => c.CallId).Distinct().Count());
    }

    [Fact]
    public void Rewrite_ToMistral_UsesNineCharacterIds()
    {
        // Given
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "Read"),
            new(ChatRole.Assistant, [new FunctionCallContent("toolu_01A09q90qw90lq917835lq9", "read", Args)]),
            new(ChatRole.Tool, [new FunctionResultContent("toolu_01A09q90qw90lq917835lq9", "content")]),
        ];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "mistral", "anthropic");

        // Then
        var call = Assert.Single(rewritten[1].Contents.OfType<FunctionCallContent>());
        Assert.Matches("^[A-Za-z0-9]{9}$", call.CallId);
        Assert.Equal(call.CallId, Assert.Single(rewritten[2].Contents.OfType<FunctionResultContent>()).CallId);
    }

    [Fact]
    public void Rewrite_RepeatedIds_PairResultsWithCallsInOrder()
    {
        // Given: an old Ollama server numbered every call "0"
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "Read"),
            new(ChatRole.Assistant, [new FunctionCallContent("0", "read", Args), new FunctionCallContent("0", "list", Args)]),
            new(ChatRole.Tool, [new FunctionResultContent("0", "read result"), new FunctionResultContent("0", "list result")]),
        ];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "openai", "ollama");

        // Then
        var calls = rewritten[1].Contents.OfType<FunctionCallContent>().ToList();
        var results = rewritten[2].Contents.OfType<FunctionResultContent>().ToList();
        Assert.NotEqual(calls[0].CallId, calls[1].CallId);
        Assert.Equal(calls.Select(c => c.CallId), results.Select(r => r.CallId));
        Assert.Equal(["read result", "list result"], results.Select(r => r.Result));
    }

    [Fact]
    public void Rewrite_CallWithoutResultAndResultWithoutCall_AreRepaired()
    {
        // Given
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "Go"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "read", Args)]),
            new(ChatRole.User, "never mind"),
            new(ChatRole.Tool, [new FunctionResultContent("call_404", "stray output")]),
        ];

        // When
        var rewritten = HistoryRewriter.Rewrite(messages, "anthropic", "openai");

        // Then
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.User, ChatRole.User], rewritten.Select(m => m.Role));
        Assert.Equal(HistoryRewriter.MissingResult, Assert.Single(rewritten[2].Contents.OfType<FunctionResultContent>()).Result);
        Assert.Contains("stray output", rewritten[4].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_FallbackProvider_ReceivesTheRewrittenHistory()
    {
        // Given: a conversation from a, with reasoning; a fails, b takes over
        var a = new ScriptedProvider("a");
        a.Failing(a.Error(ProviderErrorKind.Authentication));
        var source = new ScriptedProviderSource(a, new("b"));
        using var router = Create(source, fallbacks: ["b"]);
        List<ChatMessage> messages =
        [
            new(ChatRole.User, "Hi"),
            new(ChatRole.Assistant, [new TextReasoningContent("thinking"), new TextContent("Hello")]),
            new(ChatRole.User, "Again"),
        ];

        // When
        var response = await router.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Single(Assert.Single(a.Client.Received).Messages[1].Contents.OfType<TextReasoningContent>());
        Assert.Empty(Assert.Single(source["b"].Client.Received).Messages[1].Contents.OfType<TextReasoningContent>());
        Assert.Equal("b", response.Messages[0].AdditionalProperties![HistoryRewriter.SourceKey]);
    }
}
