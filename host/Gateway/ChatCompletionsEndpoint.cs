using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Cli;
using Ally.Host.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Gateway;

/// <summary>
/// <c>POST /v1/chat/completions</c>: translates the request, calls the client from <see cref="IGatewayClientFactory"/>,
/// and answers in OpenAI's schema, streamed or not. Every call is recorded, including failed and cancelled ones.
/// </summary>
internal sealed class ChatCompletionsEndpoint
{
    private readonly ModelResolver _resolver;
    private readonly IGatewayClientFactory _clients;
    private readonly IGatewayUsageSink _usage;
    private readonly GatewayState _state;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _maxRequestBytes;

    public ChatCompletionsEndpoint(
        ModelResolver resolver,
        IGatewayClientFactory clients,
        IGatewayUsageSink usage,
        GatewayState state,
        SecretRedactor redactor,
        TimeProvider time,
        ILogger<ChatCompletionsEndpoint> logger,
        GatewayOptions options)
    {
        _resolver = resolver;
        _clients = clients;
        _usage = usage;
        _state = state;
        _redactor = redactor;
        _time = time;
        _logger = logger;
        _maxRequestBytes = options.MaxRequestBytes;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var call = new CallContext(context, _time.GetUtcNow(), _time.GetTimestamp());
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
            call.Stream = request.Stream;
            call.User = request.User;
            client = _clients.Create(resolved.Provider, resolved.Model);
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
            var header = new CompletionHeader(CompletionHeader.NewId(), call.Arrived.ToUnixTimeSeconds(), ModelName(call.Resolved!, response.AdditionalProperties, response.ModelId, call));
            await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, (header, response), static (writer, state) => ChatCompletionWriter.WriteCompletion(writer, state.header, state.response));
            call.Usage = response.Usage;
            call.CostUsd = Cost(response.AdditionalProperties);
            Record(call, "ok", StatusCodes.Status200OK);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            GatewayLog.ClientAborted(_logger, call.Resolved!.Qualified);
            Record(call, "cancelled", StatusCodes.Status499ClientClosedRequest);
        }
        catch (ProviderException exception)
        {
            await FailAsync(call, GatewayErrors.FromProvider(exception, _redactor));
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
            call.FirstPieceTimestamp = _time.GetTimestamp();
            header = new CompletionHeader(
                CompletionHeader.NewId(),
                call.Arrived.ToUnixTimeSeconds(),
                more ? ModelName(call.Resolved!, updates.Current.AdditionalProperties, updates.Current.ModelId, call) : call.Resolved!.Qualified);
            sse.Start();
            started = true;

            while (more)
            {
                var update = updates.Current;
                if (WriteUpdate(sse, header, update, call, ref roleSent, ref toolIndex))
                {
                    await sse.FlushAsync(cancellationToken);
                }

                finishReason = update.FinishReason ?? finishReason;
                call.CostUsd = Cost(update.AdditionalProperties) ?? call.CostUsd;
                more = await updates.MoveNextAsync();
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
            Record(call, "ok", StatusCodes.Status200OK);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            GatewayLog.ClientAborted(_logger, call.Resolved!.Qualified);
            Record(call, "cancelled", StatusCodes.Status499ClientClosedRequest);
        }
        catch (ProviderException exception)
        {
            await FailStreamAsync(call, sse, started, GatewayErrors.FromProvider(exception, _redactor));
        }
#pragma warning disable CA1031 // one failing call must not take the gateway down; the client gets an error
        catch (Exception exception)
#pragma warning restore CA1031
        {
            GatewayLog.CallCrashed(_logger, call.Resolved!.Qualified, exception.GetType().Name, _redactor.Redact(exception.Message));
            await FailStreamAsync(call, sse, started, GatewayErrors.Internal);
        }
        finally
        {
            if (updates is not null)
            {
                await DisposeQuietlyAsync(updates);
            }
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
            call.TextChars += (text?.Length ?? 0) + (reasoning?.Length ?? 0);
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

    private async Task FailStreamAsync(CallContext call, SseChunkWriter sse, bool started, GatewayError error)
    {
        if (!started)
        {
            await FailAsync(call, error);
            return;
        }

        GatewayLog.CallFailed(_logger, call.Resolved?.Qualified ?? "-", error.Status, error.Code, error.Message);
        Record(call, error.Code, StatusCodes.Status200OK);
        // The error event tells SSE-aware clients why; the StreamCutException then makes Kestrel close the
        // connection without the closing chunk, so every other client fails too instead of taking the cut answer
        // as complete. There is no [DONE].
        sse.WriteEvent(error, GatewayJson.WriteError);
        await sse.FlushAsync(CancellationToken.None);
        throw new StreamCutException();
    }

    private async Task FailAsync(CallContext call, GatewayError error)
    {
        GatewayLog.CallFailed(_logger, call.Resolved?.Qualified ?? "-", error.Status, error.Code, error.Message);
        if (call.Resolved is not null)
        {
            Record(call, error.Code, error.Status);
        }

        await GatewayJson.WriteErrorAsync(call.Http, error);
    }

    private void Record(CallContext call, string outcome, int status)
    {
        var resolved = call.Resolved!;
        var usage = call.Usage;
        long? output = usage?.OutputTokenCount;
        var estimated = false;
        if (output is null && call.TextChars > 0)
        {
            // A cut stream seldom reports usage; about four characters per token is the usual estimate.
            output = (call.TextChars + 3) / 4;
            estimated = true;
        }

        var now = _time.GetTimestamp();
        _usage.Record(new GatewayCallRecord(
            call.Arrived,
            call.ServedProvider ?? resolved.Provider,
            call.ServedModel ?? resolved.Model,
            call.Stream,
            outcome,
            status,
            _time.GetElapsedTime(call.StartTimestamp, now).TotalMilliseconds,
            call.FirstPieceTimestamp is { } first ? _time.GetElapsedTime(call.StartTimestamp, first).TotalMilliseconds : null,
            usage?.InputTokenCount,
            output,
            usage?.CachedInputTokenCount,
            usage?.ReasoningTokenCount,
            estimated,
            GatewayAuth.ClientKeyName(call.Http),
            call.User,
            call.CostUsd));
    }

    /// <summary>Names the model that answered as <c>provider/model</c>: the router's report when it gives one, else the provider's.</summary>
    private static string ModelName(ResolvedModel resolved, AdditionalPropertiesDictionary? properties, string? reportedModel, CallContext call)
    {
        var provider = properties?.TryGetValue("ally.provider", out var p) == true && p is string servedProvider ? servedProvider : resolved.Provider;
        var model = properties?.TryGetValue("ally.model", out var m) == true && m is string servedModel ? servedModel : reportedModel ?? resolved.Model;
        call.ServedProvider = provider;
        call.ServedModel = model;
        return provider == resolved.Provider && model == resolved.Model ? resolved.Qualified : provider + "/" + model;
    }

    private static decimal? Cost(AdditionalPropertiesDictionary? properties) =>
        properties?.TryGetValue("ally.cost_usd", out var value) == true
            ? value switch
            {
                decimal d => d,
                double d => (decimal)d,
                float f => (decimal)f,
                _ => null,
            }
            : null;

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

    /// <summary>What one call accumulates for its usage record.</summary>
    private sealed class CallContext
    {
        public CallContext(HttpContext http, DateTimeOffset arrived, long startTimestamp)
        {
            Http = http;
            Arrived = arrived;
            StartTimestamp = startTimestamp;
        }

        public HttpContext Http { get; }

        public DateTimeOffset Arrived { get; }

        public long StartTimestamp { get; }

        public ResolvedModel? Resolved { get; set; }

        public string? ServedProvider { get; set; }

        public string? ServedModel { get; set; }

        public bool Stream { get; set; }

        public string? User { get; set; }

        public long? FirstPieceTimestamp { get; set; }

        public UsageDetails? Usage { get; set; }

        public long TextChars { get; set; }

        public decimal? CostUsd { get; set; }

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
