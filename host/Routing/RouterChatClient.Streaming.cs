using System.Runtime.CompilerServices;
using Ally.Abstractions;
using Ally.Host.Pricing;
using Microsoft.Extensions.AI;
using Polly;

namespace Ally.Host.Routing;

internal sealed partial class RouterChatClient
{
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var call = BeginCall(messages, options, streaming: true, cancellationToken);
        OpenedStream? stream = null;
        try
        {
            stream = await OpenAsync(call);

            // From here on the call is committed to this provider: nothing falls back any more. The first update
            // says who serves the answer, for callers that must name it before the end (the gateway's chunks).
            if (stream.Buffered.Count > 0)
            {
                var first = stream.Buffered[0];
                first.AdditionalProperties ??= [];
                first.AdditionalProperties[RouterAttempts.ProviderKey] = stream.Plan.Provider;
                first.AdditionalProperties[RouterAttempts.ModelKey] = stream.ModelId ?? stream.Plan.Model;
            }

            foreach (var update in stream.Buffered)
            {
                yield return update;
            }

            if (!stream.Ended)
            {
                while (await NextAsync(call, stream))
                {
                    yield return stream.Current!;
                }
            }

            if (stream.MessageId is not null)
            {
                // Marks the answer's message with its provider, for HistoryRewriter (MEAI scopes the properties of
                // an update with a message id to that message).
                yield return new ChatResponseUpdate
                {
                    MessageId = stream.MessageId,
                    AdditionalProperties = new() { [HistoryRewriter.SourceKey] = stream.Plan.Provider },
                };
            }

            yield return CompleteStream(call, stream);
        }
        finally
        {
            if (stream is not null)
            {
                if (call.Outcome is null)
                {
                    Abandon(call, stream);
                }

                await stream.DisposeAsync();
            }

            await FinishAsync(call);
        }
    }

    /// <summary>
    /// Notes a committed stream the caller stopped reading (it cancelled, or disposed the enumerator early, as the
    /// gateway does when its client goes away): the provider generated and bills what was streamed so far.
    /// </summary>
    private void Abandon(RouterCall call, OpenedStream stream)
    {
        var plan = stream.Plan;
        var usage = stream.Usage;
        if (usage is null && stream.Text.Length > 0)
        {
            // Providers report usage at the end of a stream, which a cancelled one never reaches; about four
            // characters per token is the usual estimate, and the prompt was read whole.
            var output = (stream.Text.Length + 3) / 4;
            usage = new UsageDetails { InputTokenCount = call.EstimatedInputTokens, OutputTokenCount = output, TotalTokenCount = call.EstimatedInputTokens + output };
        }

        call.FailLastAttempt(ErrorKindNames.Cancelled, "The caller stopped reading the answer.", _timeProvider.GetElapsedTime(stream.Started));
        call.Provider = plan.Provider;
        call.Model = stream.ModelId ?? plan.Model;
        call.Usage = usage;
        call.Cost = usage is null ? null : CostCalculator.Compute(PriceFor(plan, stream.ModelId), usage);
        call.Outcome = ErrorKindNames.Cancelled;
    }

    private static string IdleKey(RoutePlan plan) =>
        plan.ProviderOptions.IdleTimeout is null ? "router.idle_timeout_seconds" : $"{plan.ConfigPrefix}.idle_timeout_seconds";

    private static string FirstTokenKey(RoutePlan plan) =>
        plan.ProviderOptions.FirstTokenTimeout is null ? "router.first_token_timeout_seconds" : $"{plan.ConfigPrefix}.first_token_timeout_seconds";

    private async Task<OpenedStream> OpenAsync(RouterCall call)
    {
        try
        {
            var (stream, _) = await RunAsync(call, static (router, context, plan, call) => router.OpenAttemptAsync(context, plan, call));
            call.Provider = stream.Plan.Provider;
            return stream;
        }
        catch (Exception ex)
        {
            NoteFailure(call, ex);
            throw;
        }
    }

    /// <summary>One streamed attempt, inside the provider's pipeline: it succeeds once the first piece has arrived (or the stream ended).</summary>
    private async ValueTask<OpenedStream> OpenAttemptAsync(ResilienceContext context, RoutePlan plan, RouterCall call)
    {
        var lease = await AcquireRateLimitAsync(plan, call, context.CancellationToken);
        var started = _timeProvider.GetTimestamp();
        var attempt = new TimeoutScope(context.CancellationToken, plan.ProviderOptions.Timeout, plan.TimeoutKey, _timeProvider);
        var piece = new TimeoutScope(attempt.Token, plan.ProviderOptions.FirstTokenTimeout ?? call.Options.FirstTokenTimeout, FirstTokenKey(plan), _timeProvider);
        var stream = new OpenedStream(plan, attempt, piece, lease, started);
        call.Sent = true;
        try
        {
            stream.Enumerator = plan.Client.GetStreamingResponseAsync(plan.Messages, plan.Options, piece.Token).GetAsyncEnumerator(piece.Token);
            while (true)
            {
                if (!await stream.MoveNextAsync())
                {
                    stream.Ended = true;
                    break;
                }

                stream.Buffered.Add(stream.Current!);
                if (OpenedStream.IsPiece(stream.Current!))
                {
                    call.TimeToFirstToken = _timeProvider.GetElapsedTime(call.StartTimestamp);
                    stream.TimeToFirstPiece = _timeProvider.GetElapsedTime(started);

                    // The first-token clock stops here: while the caller handles the piece, the provider is not late.
                    piece.Pause();
                    break;
                }
            }

            call.AddAttempt(new RouterAttempt(plan.Provider, stream.ModelId ?? plan.Model, null, null, null, ElapsedMs(started)));
            return stream;
        }
        catch (Exception ex)
        {
            var failure = Normalise(ex, plan, call, attempt, piece);
            call.AddAttempt(AttemptOf(plan, failure, ElapsedMs(started)));
            await stream.DisposeAsync();
            if (ReferenceEquals(failure, ex))
            {
                throw;
            }

            throw failure;
        }
    }

    /// <summary>Reads the next piece of a committed stream; any failure now ends the answer as truncated.</summary>
    private async ValueTask<bool> NextAsync(RouterCall call, OpenedStream stream)
    {
        try
        {
            // The idle clock runs only while the router waits for the provider, not while the caller handles a piece.
            stream.Piece.Reset(stream.Plan.ProviderOptions.IdleTimeout ?? call.Options.IdleTimeout, IdleKey(stream.Plan));
            var more = await stream.MoveNextAsync();
            stream.Piece.Pause();
            if (!more)
            {
                stream.Ended = true;
                return false;
            }

            return true;
        }
        catch (Exception ex) when (!call.CallerToken.IsCancellationRequested)
        {
            throw Truncate(call, stream, ex);
        }
    }

    private ProviderException Truncate(RouterCall call, OpenedStream stream, Exception exception)
    {
        var plan = stream.Plan;
        var cause = call.Total.Fired is not null
            ? new ProviderException(ProviderErrorKind.Timeout, $"The call took longer than router.timeout_seconds ({Seconds(call.Options.Timeout)}).", plan.Provider, innerException: exception)
            : Normalise(exception, plan, call, stream.Attempt, stream.Piece) as ProviderException
              ?? new ProviderException(ProviderErrorKind.Unknown, exception.Message, plan.Provider, innerException: exception);

        var partial = stream.Text.ToString();
        var message = cause.Kind == ProviderErrorKind.TruncatedStream
            ? cause.Message
            : $"The answer from {plan.Provider} broke off after it had started ({ErrorKindNames.Of(cause.Kind)}): {cause.Message}";
        var truncated = new ProviderException(ProviderErrorKind.TruncatedStream, message, plan.Provider, cause.StatusCode, innerException: cause)
        {
            PartialText = partial,
            ErrorCode = cause.ErrorCode,
        };

        call.FailLastAttempt(ErrorKindNames.Of(cause.Kind), cause.Message, _timeProvider.GetElapsedTime(stream.Started));
        call.Provider = plan.Provider;
        call.Model = stream.ModelId ?? plan.Model;
        call.Usage = stream.Usage;
        call.Cost = stream.Usage is null ? null : CostCalculator.Compute(PriceFor(plan, stream.ModelId), stream.Usage);
        call.Outcome = ErrorKindNames.Of(ProviderErrorKind.TruncatedStream);
        return call.Attach(truncated);
    }

    private ChatResponseUpdate CompleteStream(RouterCall call, OpenedStream stream)
    {
        var plan = stream.Plan;
        call.Provider = plan.Provider;
        call.Model = stream.ModelId ?? plan.Model;
        call.Usage = stream.Usage;
        call.Cost = CostCalculator.Compute(PriceFor(plan, stream.ModelId), stream.Usage);
        call.Outcome = "ok";

        // This attempt's own times, not the call's: time lost at candidates that failed first is not this one's.
        _state.Latency.Record(plan.Candidate.ToString(), stream.TimeToFirstPiece, _timeProvider.GetElapsedTime(stream.Started));

        // The router's own last update: no content, so it changes nothing in the answer, only adds what the router
        // knows. No message id, so that MEAI's ToChatResponse puts its properties on the response.
        var update = new ChatResponseUpdate
        {
            ResponseId = stream.ResponseId,
            ModelId = stream.ModelId,
            AdditionalProperties = [],
        };
        Decorate(update.AdditionalProperties, call);
        return update;
    }

    private PriceEntry? PriceFor(RoutePlan plan, string? reportedModel) =>
        reportedModel is not null ? _prices.Find(plan.Provider, reportedModel) ?? plan.Price : plan.Price;
}
