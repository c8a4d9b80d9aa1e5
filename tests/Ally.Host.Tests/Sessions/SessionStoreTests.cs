using Ally.Host.Agent;
using Ally.Host.Configuration;
using Ally.Host.Sessions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Sessions;

public sealed class SessionStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SessionStore _store;

    public SessionStoreTests()
    {
        _store = new SessionStore(_folder.Combine("data", SessionStore.FileName), TimeProvider.System);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Save_ThenLoad_RoundTripsMessagesWithToolCallsAndResults()
    {
        // Given a turn with a tool call and its result
        var conversation = NewConversation("/work");
        conversation.Messages.AddRange(
        [
            new ChatMessage(ChatRole.User, "read it"),
            new ChatMessage(ChatRole.Assistant, [new TextContent("Reading."), new FunctionCallContent("c1", "read_file", new Dictionary<string, object?> { ["path"] = "a.txt" })]),
            new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", "hello")]),
            new ChatMessage(ChatRole.Assistant, "It says hello."),
        ]);
        conversation.FirstPrompt = "read it";
        conversation.Turns = 1;
        conversation.CostUsd = 0.0123m;

        // When
        _store.Save(conversation);
        var loaded = _store.Load(conversation.Id)!;

        // Then
        Assert.Equal(4, loaded.Messages.Count);
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.Assistant], loaded.Messages.Select(m => m.Role));
        var call = Assert.Single(loaded.Messages[1].Contents.OfType<FunctionCallContent>());
        Assert.Equal("read_file", call.Name);
        Assert.Equal("a.txt", call.Arguments!["path"]?.ToString());
        var result = Assert.Single(loaded.Messages[2].Contents.OfType<FunctionResultContent>());
        Assert.Equal("c1", result.CallId);
        Assert.Equal("hello", result.Result?.ToString());
        Assert.Equal("It says hello.", loaded.Messages[3].Text);
        Assert.Equal("general", loaded.Role);
        Assert.Equal("fake", loaded.Provider);
        Assert.Equal("m", loaded.Model);
        Assert.Equal(1, loaded.Turns);
        Assert.Equal(0.0123m, loaded.CostUsd);
        Assert.Equal(4, loaded.SavedCount);
    }

    [Fact]
    public void Save_AfterEachTurnAndATruncation_KeepsTheDatabaseEqualToTheConversation()
    {
        // Given two saved turns
        var conversation = NewConversation("/work");
        conversation.Messages.Add(new ChatMessage(ChatRole.User, "one"));
        conversation.Messages.Add(new ChatMessage(ChatRole.Assistant, "1"));
        _store.Save(conversation);
        conversation.Messages.Add(new ChatMessage(ChatRole.User, "two"));
        conversation.Messages.Add(new ChatMessage(ChatRole.Assistant, "2"));
        _store.Save(conversation);
        Assert.Equal(4, _store.Load(conversation.Id)!.Messages.Count);

        // When the last answer is replaced (as /retry does)
        conversation.TruncateFrom(3);
        conversation.Messages.Add(new ChatMessage(ChatRole.Assistant, "2 again"));
        _store.Save(conversation);

        // Then
        Assert.Equal(["one", "1", "two", "2 again"], _store.Load(conversation.Id)!.Messages.Select(m => m.Text));
    }

    [Fact]
    public void Load_Prefix_FindsTheSession_AmbiguousPrefixIsAClearError()
    {
        // Given
        var a = new Conversation("abc111", DateTimeOffset.UnixEpoch, "/w") { Role = "general", Provider = "fake" };
        var b = new Conversation("abc222", DateTimeOffset.UnixEpoch, "/w") { Role = "general", Provider = "fake" };
        a.Messages.Add(new ChatMessage(ChatRole.User, "a"));
        b.Messages.Add(new ChatMessage(ChatRole.User, "b"));
        _store.Save(a);
        _store.Save(b);

        // When / Then
        Assert.Equal("abc222", _store.Load("abc2")!.Id);
        Assert.Null(_store.Load("zzz"));
        Assert.Contains("ambiguous", Assert.Throws<ConfigException>(() => _store.Load("abc")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LastIdAndList_ReturnTheMostRecentFirst()
    {
        // Given sessions in two folders, saved in order
        var time = new SteppingTimeProvider();
        var store = new SessionStore(_folder.Combine("data2", SessionStore.FileName), time);
        foreach (var (id, dir) in new[] { ("s1", "/a"), ("s2", "/b"), ("s3", "/a") })
        {
            var c = new Conversation(id, time.GetUtcNow(), dir) { Role = "code_gen", Provider = "fake", Model = "m", FirstPrompt = "prompt " + id, Turns = 2 };
            c.Messages.Add(new ChatMessage(ChatRole.User, "x"));
            store.Save(c);
        }

        // When
        var last = store.LastId("/a");
        var list = store.List();

        // Then
        Assert.Equal("s3", last);
        Assert.Null(store.LastId("/none"));
        Assert.Equal(["s3", "s2", "s1"], list.Select(s => s.Id));
        Assert.Equal("prompt s3", list[0].FirstPrompt);
        Assert.Equal("code_gen", list[0].Role);
        Assert.Equal(2, list[0].Turns);
    }

    [Fact]
    public void Save_CreatesTheFolderAndDatabaseReadableOnlyByTheUser()
    {
        // Given
        var conversation = NewConversation("/w");
        conversation.Messages.Add(new ChatMessage(ChatRole.User, "x"));

        // When
        _store.Save(conversation);

        // Then
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder.Combine("data")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_store.DatabasePath));
        }
    }

    private static Conversation NewConversation(string directory) =>
        new(SessionStore.NewId(), DateTimeOffset.UnixEpoch, directory) { Role = "general", Provider = "fake", Model = "m" };

    private sealed class SteppingTimeProvider : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now = _now.AddMinutes(1);
    }
}
