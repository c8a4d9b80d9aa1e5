using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Fakes;

/// <summary>A chat client whose answers come from callbacks, recording every request (MEAI's TestChatClient).</summary>
public sealed class TestChatClient : IChatClient
{
    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>? GetStreamingResponseAsyncCallback { get; set; }

    public Func<Type, object?, object?>? GetServiceCallback { get; set; }

    /// <summary>Gets the messages of every call, copied at the time of the call.</summary>
    public List<IReadOnlyList<ChatMessage>> Calls { get; } = [];

    public List<ChatOptions?> Options { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        Calls.Add(list);
        Options.Add(options);
        return GetResponseAsyncCallback is { } callback
            ? callback(list, options, cancellationToken)
            : throw new InvalidOperationException("no GetResponseAsyncCallback");
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        Calls.Add(list);
        Options.Add(options);
        if (GetStreamingResponseAsyncCallback is { } callback)
        {
            return callback(list, options, cancellationToken);
        }

        if (GetResponseAsyncCallback is { } plain)
        {
            return FromResponse(plain(list, options, cancellationToken));
        }

        throw new InvalidOperationException("no streaming callback");
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => GetServiceCallback?.Invoke(serviceType, serviceKey);

    public void Dispose()
    {
        // The tests own the client; the agent disposes what the provider gives it after each turn.
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

    private static async IAsyncEnumerable<ChatResponseUpdate> FromResponse(Task<ChatResponse> response)
    {
        foreach (var update in (await response).ToChatResponseUpdates())
        {
            yield return update;
        }
    }
}
