using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Fakes;

/// <summary>A chat client whose behaviour is the test's callbacks (as in Microsoft.Extensions.AI's own tests).</summary>
public sealed class TestChatClient : IChatClient
{
    private int _calls;

    public TestChatClient(string providerName = "test", string? defaultModel = null)
    {
        ProviderName = providerName;
        DefaultModel = defaultModel;
    }

    public string ProviderName { get; }

    public string? DefaultModel { get; set; }

    public Func<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    public Func<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>? GetStreamingResponseAsyncCallback { get; set; }

    /// <summary>Gets how many calls (streamed or not) reached this client.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets the messages and options of every call, in order.</summary>
    public ConcurrentQueue<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> Received { get; } = new();

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        var list = messages.ToList();
        Received.Enqueue((list, options));
        return GetResponseAsyncCallback?.Invoke(list, options, cancellationToken)
            ?? throw new InvalidOperationException("The test set no GetResponseAsyncCallback.");
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        var list = messages.ToList();
        Received.Enqueue((list, options));
        return GetStreamingResponseAsyncCallback?.Invoke(list, options, cancellationToken)
            ?? throw new InvalidOperationException("The test set no GetStreamingResponseAsyncCallback.");
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata(ProviderName, null, DefaultModel)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
