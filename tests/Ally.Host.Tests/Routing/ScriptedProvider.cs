using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Routing;

/// <summary>A fake provider whose calls fail, stall or answer as the test scripts them, like the protocol clients do.</summary>
internal sealed class ScriptedProvider
{
    private int _calls;

    public ScriptedProvider(string name, string? defaultModel = "m1")
    {
        Name = name;
        Client = new TestChatClient(name, defaultModel)
        {
            GetResponseAsyncCallback = RespondAsync,
            GetStreamingResponseAsyncCallback = Stream,
        };
    }

    public string Name { get; }

    public TestChatClient Client { get; }

    public int Calls => Client.CallCount;

    public string Answer { get; set; } = "Hello there";

    public UsageDetails? Usage { get; set; } = new() { InputTokenCount = 100, OutputTokenCount = 50, TotalTokenCount = 150 };

    /// <summary>Gets failures thrown by the next calls, one a call, before anything is answered.</summary>
    public ConcurrentQueue<Exception> Failures { get; } = new();

    /// <summary>Gets or sets a hook that runs before the answer (or the first piece): a stall, a gate.</summary>
    public Func<CancellationToken, Task>? BeforeAnswer { get; set; }

    /// <summary>Gets or sets a hook that runs between the first and the second streamed piece.</summary>
    public Func<CancellationToken, Task>? BetweenPieces { get; set; }

    /// <summary>Gets or sets a hook that runs after the second streamed piece, before the last update.</summary>
    public Func<CancellationToken, Task>? BeforeEnd { get; set; }

    /// <summary>Gets or sets a failure thrown after the first streamed piece.</summary>
    public Exception? FailAfterFirstPiece { get; set; }

    /// <summary>Gets a completion source the provider sets when a call has started.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScriptedProvider Failing(params Exception[] failures)
    {
        foreach (var failure in failures)
        {
            Failures.Enqueue(failure);
        }

        return this;
    }

    public ProviderException Error(ProviderErrorKind kind, TimeSpan? retryAfter = null, int? status = null) =>
        new(kind, $"{Name} says {kind}", Name, status, retryAfter);

    /// <summary>Creates a provider that stalls after its first streamed piece; <paramref name="stalled"/> completes when it does.</summary>
    public static ScriptedProvider StallingAfterFirstPiece(string name, out TaskCompletionSource stalled)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stalled = signal;
        return new ScriptedProvider(name)
        {
            BetweenPieces = ct =>
            {
                signal.TrySetResult();
                return StallAsync(ct);
            },
        };
    }

    /// <summary>A stall that only ends when the call is cancelled.</summary>
    public static async Task StallAsync(CancellationToken cancellationToken) =>
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);

    private async Task<ChatResponse> RespondAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Entered.TrySetResult();
        if (Failures.TryDequeue(out var failure))
        {
            throw failure;
        }

        if (BeforeAnswer is { } before)
        {
            await before(cancellationToken);
        }

        return new ChatResponse(new ChatMessage(ChatRole.Assistant, Answer))
        {
            ModelId = options?.ModelId ?? Client.DefaultModel,
            Usage = Usage,
            FinishReason = ChatFinishReason.Stop,
            ResponseId = $"{Name}-response",
        };
    }

    private async IAsyncEnumerable<ChatResponseUpdate> Stream(IEnumerable<ChatMessage> messages, ChatOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Entered.TrySetResult();
        var model = options?.ModelId ?? Client.DefaultModel;

        // A content-free first update, as OpenAI sends the role alone first.
        yield return new ChatResponseUpdate(ChatRole.Assistant, []) { ResponseId = $"{Name}-response", MessageId = "msg-1", ModelId = model };

        if (Failures.TryDequeue(out var failure))
        {
            throw failure;
        }

        if (BeforeAnswer is { } before)
        {
            await before(cancellationToken);
        }

        var half = Answer.Length / 2;
        yield return new ChatResponseUpdate(ChatRole.Assistant, Answer[..half]) { ResponseId = $"{Name}-response", MessageId = "msg-1", ModelId = model };

        if (BetweenPieces is { } between)
        {
            await between(cancellationToken);
        }

        if (FailAfterFirstPiece is { } late)
        {
            throw late;
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, Answer[half..]) { ResponseId = $"{Name}-response", MessageId = "msg-1", ModelId = model };

        if (BeforeEnd is { } end)
        {
            await end(cancellationToken);
        }

        var last = new ChatResponseUpdate { ResponseId = $"{Name}-response", MessageId = "msg-1", FinishReason = ChatFinishReason.Stop, ModelId = model };
        if (Usage is not null)
        {
            last.Contents.Add(new UsageContent(Usage));
        }

        yield return last;
    }
}
