using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Fakes;

/// <summary>A chat client whose answers come from the test's callbacks, recording every request (MEAI's TestChatClient).</summary>
public sealed class TestChatClient : IChatClient
{
    private readonly List<IReadOnlyList<ChatMessage>> _calls = [];
    private readonly List<ChatOptions?> _options = [];

    public TestChatClient(string providerName = "test", string? defaultModel = null)
    {
        ProviderName = providerName;
        DefaultModel = defaultModel;
    }

    public string ProviderName { get; }

    public string? DefaultModel { get; set; }

    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>? GetStreamingResponseAsyncCallback { get; set; }

    /// <summary>Gets or sets the answer to GetService; by default the client's metadata and the client itself.</summary>
    public Func<Type, object?, object?>? GetServiceCallback { get; set; }

    /// <summary>Gets the messages of every call, copied at the time of the call.</summary>
    public IReadOnlyList<IReadOnlyList<ChatMessage>> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Gets the options of every call, in order.</summary>
    public IReadOnlyList<ChatOptions?> Options
    {
        get
        {
            lock (_calls)
            {
                return [.. _options];
            }
        }
    }

    /// <summary>Gets how many calls (streamed or not) reached this client.</summary>
    public int CallCount
    {
        get
        {
            lock (_calls)
            {
                return _calls.Count;
            }
        }
    }

    /// <summary>Gets the messages and options of every call, in order.</summary>
    public ConcurrentQueue<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> Received { get; } = new();

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = Record(messages, options);
        return GetResponseAsyncCallback?.Invoke(list, options, cancellationToken)
            ?? throw new InvalidOperationException("The test set no GetResponseAsyncCallback.");
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = Record(messages, options);
        if (GetStreamingResponseAsyncCallback is { } callback)
        {
            return callback(list, options, cancellationToken);
        }

        if (GetResponseAsyncCallback is { } plain)
        {
            return FromResponse(plain(list, options, cancellationToken));
        }

        throw new InvalidOperationException("The test set no GetStreamingResponseAsyncCallback.");
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        GetServiceCallback is { } callback ? callback(serviceType, serviceKey)
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata(ProviderName, null, DefaultModel)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        // The tests own the client.
    }

    /// <summary>Streams the given updates, one by one.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Stream(IEnumerable<ChatResponseUpdate> updates, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in updates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return update;
        }
    }

    /// <summary>Streams text pieces and then a usage update.</summary>
    public static IAsyncEnumerable<ChatResponseUpdate> Text(params string[] pieces) =>
        Stream([.. pieces.Select(p => new ChatResponseUpdate(ChatRole.Assistant, p)), new ChatResponseUpdate { Role = ChatRole.Assistant, FinishReason = ChatFinishReason.Stop, Contents = [new UsageContent(new UsageDetails { InputTokenCount = 10, OutputTokenCount = 5, TotalTokenCount = 15 })] }]);

    /// <summary>A response that asks for one tool call.</summary>
    public static ChatResponse Call(string name, IDictionary<string, object?> arguments, string callId = "call-1") =>
        new(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent(callId, name, arguments)])) { FinishReason = ChatFinishReason.ToolCalls };

    private IReadOnlyList<ChatMessage> Record(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var list = messages.ToList();
        lock (_calls)
        {
            _calls.Add(list);
            _options.Add(options);
        }

        Received.Enqueue((list, options));
        return list;
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> FromResponse(Task<ChatResponse> response)
    {
        foreach (var update in (await response).ToChatResponseUpdates())
        {
            yield return update;
        }
    }
}
