using System.Text;
using Microsoft.Extensions.AI;

namespace Ally.Host.Routing;

/// <summary>A provider stream the router committed to: its enumerator, its timeouts, and what it delivered so far.</summary>
internal sealed class OpenedStream : IAsyncDisposable
{
    private Task<bool>? _pending;

    public OpenedStream(RoutePlan plan, TimeoutScope attempt, TimeoutScope piece, IDisposable? lease, long started)
    {
        Plan = plan;
        Attempt = attempt;
        Piece = piece;
        Lease = lease;
        Started = started;
    }

    /// <summary>Gets the timestamp at which this attempt started.</summary>
    public long Started { get; }

    /// <summary>Gets or sets the time from the start of this attempt to its first piece.</summary>
    public TimeSpan? TimeToFirstPiece { get; set; }

    public RoutePlan Plan { get; }

    public TimeoutScope Attempt { get; }

    /// <summary>Gets the scope of the first-token timeout, then of the idle timeout between pieces.</summary>
    public TimeoutScope Piece { get; }

    public IDisposable? Lease { get; }

    public IAsyncEnumerator<ChatResponseUpdate>? Enumerator { get; set; }

    /// <summary>Gets the updates read while opening: content-free ones (role, metadata) and the first piece, last.</summary>
    public List<ChatResponseUpdate> Buffered { get; } = [];

    public bool Ended { get; set; }

    public ChatResponseUpdate? Current { get; private set; }

    public StringBuilder Text { get; } = new();

    public UsageDetails? Usage { get; private set; }

    public string? ResponseId { get; private set; }

    public string? MessageId { get; private set; }

    public string? ModelId { get; private set; }

    /// <summary>Gets whether an update with content (text, reasoning, a tool call) has been read.</summary>
    public static bool IsPiece(ChatResponseUpdate update)
    {
        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case UsageContent:
                    break;
                case TextContent text when string.IsNullOrEmpty(text.Text):
                    break;
                case TextReasoningContent reasoning when string.IsNullOrEmpty(reasoning.Text):
                    break;
                default:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Reads the next update, giving up when the piece scope fires even if the provider ignores its token.</summary>
    public async ValueTask<bool> MoveNextAsync()
    {
        var next = Enumerator!.MoveNextAsync();
        bool hasNext;
        if (next.IsCompleted)
        {
            hasNext = next.GetAwaiter().GetResult();
        }
        else
        {
            var task = next.AsTask();
            try
            {
                hasNext = await task.WaitAsync(Piece.Token);
            }
            catch (OperationCanceledException) when (!task.IsCompleted)
            {
                _pending = task;
                throw;
            }
        }

        if (hasNext)
        {
            Current = Enumerator.Current;
            Observe(Current);
        }

        return hasNext;
    }

    public async ValueTask DisposeAsync()
    {
        if (Enumerator is { } enumerator)
        {
            if (_pending is { } pending)
            {
                // The provider has not noticed the cancellation yet; an async iterator cannot be disposed mid-MoveNext.
                _ = pending.ContinueWith(
                    static (_, state) => ((IAsyncEnumerator<ChatResponseUpdate>)state!).DisposeAsync().AsTask(),
                    enumerator,
                    CancellationToken.None,
                    TaskContinuationOptions.None,
                    TaskScheduler.Default).Unwrap().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            }
            else
            {
                try
                {
                    await enumerator.DisposeAsync();
                }
#pragma warning disable CA1031 // a broken stream may fail to close; the caller already has the real error
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }

        Lease?.Dispose();
        Piece.Dispose();
        Attempt.Dispose();
    }

    private void Observe(ChatResponseUpdate update)
    {
        ResponseId = update.ResponseId ?? ResponseId;
        MessageId = update.MessageId ?? MessageId;
        ModelId = update.ModelId ?? ModelId;
        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case TextContent text:
                    Text.Append(text.Text);
                    break;
                case UsageContent usage:
                    Usage = Merge(Usage, usage.Details);
                    break;
            }
        }
    }

    /// <summary>Keeps the latest value of each count: providers repeat cumulative usage (Gemini) or send it once.</summary>
    private static UsageDetails Merge(UsageDetails? previous, UsageDetails next)
    {
        if (previous is null)
        {
            return next;
        }

        var merged = new UsageDetails
        {
            InputTokenCount = next.InputTokenCount ?? previous.InputTokenCount,
            OutputTokenCount = next.OutputTokenCount ?? previous.OutputTokenCount,
            TotalTokenCount = next.TotalTokenCount ?? previous.TotalTokenCount,
            CachedInputTokenCount = next.CachedInputTokenCount ?? previous.CachedInputTokenCount,
            ReasoningTokenCount = next.ReasoningTokenCount ?? previous.ReasoningTokenCount,
        };
        if (previous.AdditionalCounts is not null || next.AdditionalCounts is not null)
        {
            merged.AdditionalCounts = [];
            foreach (var (key, value) in previous.AdditionalCounts ?? [])
            {
                merged.AdditionalCounts[key] = value;
            }

            foreach (var (key, value) in next.AdditionalCounts ?? [])
            {
                merged.AdditionalCounts[key] = value;
            }
        }

        return merged;
    }
}
