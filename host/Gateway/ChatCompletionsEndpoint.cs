using System.Globalization;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Cli;
using Ally.Host.Configuration;
using Ally.Host.Routing;
using Ally.Host.Usage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Gateway;

/// <summary>
/// <c>POST /v1/chat/completions</c>: translates the request, calls the client from <see cref="IGatewayClientFactory"/>
/// (the router, which records every call it sends in the usage store, failed and cancelled ones included), and
/// answers in OpenAI's schema, streamed or not.
/// </summary>
internal sealed class ChatCompletionsEndpoint
{
    public const string AttemptsHeader = "x-ally-attempts";

    private readonly ModelResolver _resolver;
    private readonly IGatewayClientFactory _clients;
    private readonly GatewayState _state;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _maxRequestBytes;

    public ChatCompletionsEndpoint(
        ModelResolver resolver,
        IGatewayClientFactory clients,
        GatewayState state,
        SecretRedactor redactor,
        TimeProvider time,
        ILogger<ChatCompletionsEndpoint> logger,
        GatewayOptions options)
    {
        _resolver = resolver;
        _clients = clients;
        _state = state;
        _redactor = redactor;
        _time = time;
        _logger = logger;
        _maxRequestBytes = options.MaxRequestBytes;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var call = new CallContext(context, _time.GetUtcNow().ToUnixTimeSeconds());
        GatewayChatRequest request;
        ResolvedModel resolved;
        IChatClient client;
        try
        {
            using (var body = await GatewayBody.ReadJsonAsync(context, _maxRequestBytes))
            {
                request = ChatRequestReader.Read(body.Root);
            }

            resolved = _resolver.Resolve(request.Model);
            call.Resolved = resolved;
            // The client key's name (key1, key2… or local, never the key) is the router's session: usage records say
            // which client made each call, and budget.session_usd caps each client.
            client = _clients.Create(resolved.Provider, resolved.Model, GatewayAuth.ClientKeyName(context));
        }
        catch (GatewayException exception)
        {
            await FailAsync(call, exception.Error);
            return;
        }
        catch (ConfigException exception)
        {
            await FailAsync(call, GatewayErrors.FromConfig(exception, _redactor));
            return;
        }
        catch (ProviderException exception)
        {
            await FailAsync(call, GatewayErrors.FromProvider(exception, _redactor));
            return;
        }

        request.Options.ModelId = resolved.Model;
        if (!request.Stream)
        {
            await CompleteAsync(call, client, request);
            return;
        }

        if (!_state.TryBeginStream())
        {
            await FailAsync(call, GatewayErrors.TooManyStreams);
            return;
        }

        try
        {
            await StreamAsync(call, client, request);
        }
        finally
        {
            _state.EndStream();
        }
    }

    private async Task CompleteAsync(CallContext call, IChatClient client, GatewayChatRequest request)
    {
        var context = call.Http;
        try
        {
            var response = await client.GetResponseAsync(request.Messages, request.Options, context.RequestAborted);
            var header = new CompletionHeader(CompletionHeader.NewId(), call.Arrived, ModelName(call.Resolved!, response.AdditionalProperties, response.ModelId));
            SetAttemptsHeader(context, response.AdditionalProperties?.TryGetValue(RouterAttempts.Key, out var attempts) == true ? attempts as IReadOnlyList<RouterAttempt> : null);
            await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, (header, response), static (writer, state) => ChatCompletionWriter.WriteCompletion(writer, state.header, state.response));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            GatewayLog.ClientAborted(_logger, call.Resolved!.Qualified);
        }
        catch (ProviderException exception)
        {
            await FailAsync(call, GatewayErrors.FromProvider(exception, _redactor), exception);
        }
        catch (BudgetExceededException exception)
        {
            await FailAsync(call, GatewayErrors.FromBudget(exception, _redactor), exception);
        }
#pragma warning disable CA1031 // one failing call must not take the gateway down; the client gets a 500
        catch (Exception exception)
#pragma warning restore CA1031
        {
            GatewayLog.CallCrashed(_logger, call.Resolved!.Qualified, exception.GetType().Name, _redactor.Redact(exception.Message));
            await FailAsync(call, GatewayErrors.Internal);
        }
    }

    private async Task StreamAsync(CallContext call, IChatClient client, GatewayChatRequest request)
    {
        var context = call.Http;
        var cancellationToken = context.RequestAborted;
        using var sse = new SseChunkWriter(context);
        var started = false;
        var roleSent = false;
        var toolIndex = 0;
        ChatFinishReason? finishReason = null;
        CompletionHeader header = default;
        IAsyncEnumerator<ChatResponseUpdate>? updates = null;
        try
        {
            updates = client.GetStreamingResponseAsync(request.Messages, request.Options, cancellationToken).GetAsyncEnumerator(cancellationToken);

            // Nothing is sent before the first piece, so that a failure up to then is an ordinary HTTP error
            // with its status code, which every client understands.
            var more = await updates.MoveNextAsync();
            header = new CompletionHeader(
                CompletionHeader.NewId(),
                call.Arrived,
                more ? ModelName(call.Resolved!, updates.Current.AdditionalProperties, updates.Current.ModelId) : call.Resolved!.Qualified);
            sse.Start();
            started = true;

            var unflushed = false;
            var firstSent = false;
            while (more)
            {
                var update = updates.Current;
                unflushed |= WriteUpdate(sse, header, update, call, ref roleSent, ref toolIndex);
                finishReason = update.FinishReason ?? finishReason;

                // The first piece leaves at once, before the next is read: it is what the client's time to first
                // token waits for, and providers often send several pieces in one packet.
                if (unflushed && !firstSent)
                {
                    await sse.FlushAsync(cancellationToken);
                    unflushed = false;
                    firstSent = true;
                }

                // After it, chunks go out before every wait for the provider, never later; pieces that have already
                // arrived together leave in one write (one system call) instead of one each.
                var next = updates.MoveNextAsync();
                if (unflushed && !next.IsCompleted)
                {
                    await FlushWhileReadingAsync(sse, next, cancellationToken);
                    unflushed = false;
                }

                more = await next;
            }

            if (!roleSent)
            {
                sse.WriteEvent(header, static (writer, h) => ChatCompletionWriter.WriteContentChunk(writer, h, withRole: true, string.Empty, reasoning: null));
            }

            var finish = toolIndex > 0 ? "tool_calls" : JsonOutput.FinishReason(finishReason);
            sse.WriteEvent((header, finish), static (writer, state) => ChatCompletionWriter.WriteFinishChunk(writer, state.header, state.finish));
            if (request.IncludeUsage && call.Usage is { } usage)
            {
                sse.WriteEvent((header, usage), static (writer, state) => ChatCompletionWriter.WriteUsageChunk(writer, state.header, state.usage));
            }

            sse.WriteDone();
            await sse.FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            GatewayLog.ClientAborted(_logger, call.Resolved!.Qualified);
        }
        catch (ProviderException exception)
        {
            await FailStreamAsync(call, sse, started, GatewayErrors.FromProvider(exception, _redactor), exception);
        }
        catch (BudgetExceededException exception)
        {
            await FailStreamAsync(call, sse, started, GatewayErrors.FromBudget(exception, _redactor), exception);
        }
#pragma warning disable CA1031 // one failing call must not take the gateway down; the client gets an error
        catch (Exception exception)
#pragma warning restore CA1031
        {
            GatewayLog.CallCrashed(_logger, call.Resolved!.Qualified, exception.GetType().Name, _redactor.Redact(exception.Message));
            await FailStreamAsync(call, sse, started, GatewayErrors.Internal, exception);
        }
        finally
        {
            if (updates is not null)
            {
                await DisposeQuietlyAsync(updates);
            }
        }
    }

    /// <summary>Flushes while the next update is being read; if the flush fails, waits for that read before rethrowing, so that the enumerator is never disposed mid-read.</summary>
    private static async ValueTask FlushWhileReadingAsync(SseChunkWriter sse, ValueTask<bool> next, CancellationToken cancellationToken)
    {
        try
        {
            await sse.FlushAsync(cancellationToken);
        }
        catch
        {
            try
            {
                await next;
            }
#pragma warning disable CA1031 // the flush's failure is the one to report; the read was only awaited to end it cleanly
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            throw;
        }
    }

    /// <summary>Writes the chunks of one update; returns whether anything was written.</summary>
    private static bool WriteUpdate(SseChunkWriter sse, CompletionHeader header, ChatResponseUpdate update, CallContext call, ref bool roleSent, ref int toolIndex)
    {
        string? text = null;
        string? reasoning = null;
        var hasCalls = false;
        var contents = update.Contents;
        for (var i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case TextContent { Text.Length: > 0 } t:
                    text = text is null ? t.Text : text + t.Text;
                    break;
                case TextReasoningContent { Text.Length: > 0 } r:
                    reasoning = reasoning is null ? r.Text : reasoning + r.Text;
                    break;
                case FunctionCallContent:
                    hasCalls = true;
                    break;
                case UsageContent u:
                    call.AddUsage(u.Details);
                    break;
                default:
                    break;
            }
        }

        var wrote = false;
        if (text is not null || reasoning is not null)
        {
            sse.WriteEvent((header, !roleSent, text, reasoning), static (writer, s) => ChatCompletionWriter.WriteContentChunk(writer, s.header, s.Item2, s.text, s.reasoning));
            roleSent = true;
            wrote = true;
        }

        if (hasCalls)
        {
            for (var i = 0; i < contents.Count; i++)
            {
                if (contents[i] is FunctionCallContent functionCall)
                {
                    var index = toolIndex++;
                    sse.WriteEvent((header, !roleSent, index, functionCall), static (writer, s) => ChatCompletionWriter.WriteToolCallStart(writer, s.header, s.Item2, s.index, s.functionCall));
                    sse.WriteEvent((header, index, functionCall), static (writer, s) => ChatCompletionWriter.WriteToolCallArguments(writer, s.header, s.index, s.functionCall));
                    roleSent = true;
                    wrote = true;
                }
            }
        }

        return wrote;
    }

    private async Task FailStreamAsync(CallContext call, SseChunkWriter sse, bool started, GatewayError error, Exception exception)
    {
        if (!started)
        {
            await FailAsync(call, error, exception);
            return;
        }

        GatewayLog.CallFailed(_logger, call.Resolved?.Qualified ?? "-", error.Status, error.Code, error.Message);
        // The error event tells SSE-aware clients why; the StreamCutException then makes Kestrel close the
        // connection without the closing chunk, so every other client fails too instead of taking the cut answer
        // as complete. There is no [DONE].
        sse.WriteEvent(error, GatewayJson.WriteError);
        await sse.FlushAsync(CancellationToken.None);
        throw new StreamCutException();
    }

    private async Task FailAsync(CallContext call, GatewayError error, Exception? exception = null)
    {
        GatewayLog.CallFailed(_logger, call.Resolved?.Qualified ?? "-", error.Status, error.Code, error.Message);
        if (exception is not null)
        {
            SetAttemptsHeader(call.Http, RouterAttempts.From(exception));
        }

        await GatewayJson.WriteErrorAsync(call.Http, error);
    }

    /// <summary>
    /// Tells the client how many providers the router tried (<c>x-ally-attempts</c>); the attempts themselves stay
    /// in the usage records, because their messages are the providers' words.
    /// </summary>
    private static void SetAttemptsHeader(HttpContext context, IReadOnlyList<RouterAttempt>? attempts)
    {
        if (attempts is { Count: > 0 } && !context.Response.HasStarted)
        {
            context.Response.Headers[AttemptsHeader] = attempts.Count.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Names the model that answered as <c>provider/model</c>: the router's report when it gives one, else the provider's.</summary>
    private static string ModelName(ResolvedModel resolved, AdditionalPropertiesDictionary? properties, string? reportedModel)
    {
        var provider = properties?.TryGetValue(RouterAttempts.ProviderKey, out var p) == true && p is string servedProvider ? servedProvider : resolved.Provider;
        var model = properties?.TryGetValue(RouterAttempts.ModelKey, out var m) == true && m is string servedModel ? servedModel : reportedModel ?? resolved.Model;
        return provider == resolved.Provider && model == resolved.Model ? resolved.Qualified : provider + "/" + model;
    }

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<ChatResponseUpdate> updates)
    {
        try
        {
            await updates.DisposeAsync();
        }
#pragma warning disable CA1031 // disposing a cancelled upstream stream may throw; the call is over either way
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>What one call needs to answer: the request's context and model, and the usage to send when asked.</summary>
    private sealed class CallContext
    {
        public CallContext(HttpContext http, long arrived)
        {
            Http = http;
            Arrived = arrived;
        }

        public HttpContext Http { get; }

        /// <summary>Gets when the request arrived, in Unix seconds (OpenAI's <c>created</c>).</summary>
        public long Arrived { get; }

        public ResolvedModel? Resolved { get; set; }

        public UsageDetails? Usage { get; set; }

        public void AddUsage(UsageDetails details)
        {
            if (Usage is null)
            {
                Usage = details;
                return;
            }

            Usage.Add(details);
        }
    }
}
