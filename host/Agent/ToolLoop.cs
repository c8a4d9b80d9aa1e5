using System.Text.Json;
using Ally.Host.Agent.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Agent;

/// <summary>
/// Runs one turn: calls the model, runs the tools it asks for (one by one, each through the permission gate), feeds
/// the results back, and repeats until the model answers without tools or <c>tools.max_iterations</c> calls were
/// made. The host's equivalent of Microsoft.Extensions.AI's function-invoking client, which is not available here.
/// </summary>
internal sealed partial class ToolLoop
{
    private readonly ToolPermissions _permissions;
    private readonly int _maxIterations;
    private readonly ILogger _logger;

    public ToolLoop(ToolPermissions permissions, int maxIterations, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        _permissions = permissions;
        _maxIterations = maxIterations;
        _logger = logger;
    }

    public ToolPermissions Permissions => _permissions;

    /// <summary>
    /// Runs a turn on <paramref name="history"/>, which must already end with the user's message; every message the
    /// turn produces is appended to it as soon as it is complete, so a failure or a cancellation keeps what was done.
    /// </summary>
    public async Task<TurnResult> RunAsync(
        IChatClient client,
        string? systemPrompt,
        List<ChatMessage> history,
        ChatOptions options,
        bool stream,
        ITurnObserver? observer = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(options);
        observer ??= NullTurnObserver.Instance;
        var tools = (options.Tools ?? []).OfType<AIFunction>().ToDictionary(t => t.Name, StringComparer.Ordinal);
        var start = history.Count;
        UsageDetails? usage = null;
        decimal? cost = 0m;
        var toolCalls = 0;
        ChatResponse? last = null;

        try
        {
            for (var iteration = 1; ; iteration++)
            {
                var request = new List<ChatMessage>(history.Count + 1);
                if (!string.IsNullOrWhiteSpace(systemPrompt))
                {
                    request.Add(new ChatMessage(ChatRole.System, systemPrompt));
                }

                request.AddRange(history);
                if (_logger.IsEnabled(LogLevel.Trace))
                {
                    LogRequest(_logger, iteration, JsonSerializer.Serialize(request, AIJsonUtilities.DefaultOptions));
                }

                var response = stream
                    ? await StreamAsync(client, request, options, observer, cancellationToken)
                    : await client.GetResponseAsync(request, options, cancellationToken);
                if (!stream && response.Text is { Length: > 0 } text)
                {
                    observer.OnText(text);
                }

                last = response;
                usage = Add(usage, response.Usage);
                cost = cost is { } sum && CostReader.Read(response.AdditionalProperties) is { } callCost ? sum + callCost : null;
                history.AddRange(response.Messages);
                observer.OnResponseCompleted(response);

                var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
                if (calls.Count == 0)
                {
                    return Result(history, start, last, usage, cost, iteration, toolCalls, limitReached: false);
                }

                var limitReached = iteration >= _maxIterations;
                var results = new List<AIContent>(calls.Count);
                foreach (var call in calls)
                {
                    if (limitReached)
                    {
                        results.Add(new FunctionResultContent(call.CallId, $"Not run: this turn reached its limit of {_maxIterations} model calls (tools.max_iterations). Tell the user what is left to do."));
                        continue;
                    }

                    toolCalls++;
                    results.Add(await InvokeAsync(call, tools, observer, cancellationToken));
                }

                history.Add(new ChatMessage(ChatRole.Tool, results));
                if (limitReached)
                {
                    observer.OnIterationLimit(_maxIterations);
                    return Result(history, start, last, usage, cost, iteration, toolCalls, limitReached: true);
                }
            }
        }
        catch (Exception) when (history.Count > start)
        {
            // A cancelled or failed turn may stop between a tool call and its result; providers reject a history
            // with an unanswered call, so the next turn would fail too.
            CloseOpenCalls(history, "Not run: the turn was stopped before this tool ran.");
            throw;
        }
    }

    /// <summary>Adds a result to every tool call in <paramref name="history"/> that has none.</summary>
    public static void CloseOpenCalls(List<ChatMessage> history, string result)
    {
        ArgumentNullException.ThrowIfNull(history);
        var answered = history.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.CallId).ToHashSet(StringComparer.Ordinal);
        var open = history.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Where(c => !answered.Contains(c.CallId)).ToList();
        if (open.Count > 0)
        {
            history.Add(new ChatMessage(ChatRole.Tool, [.. open.Select(c => (AIContent)new FunctionResultContent(c.CallId, result))]));
        }
    }

    private async Task<FunctionResultContent> InvokeAsync(FunctionCallContent call, Dictionary<string, AIFunction> tools, ITurnObserver observer, CancellationToken cancellationToken)
    {
        if (!tools.TryGetValue(call.Name, out var function))
        {
            var missing = $"Error: there is no tool named '{call.Name}'. The tools are: {string.Join(", ", tools.Keys)}.";
            observer.OnToolResult(call, ToolDecision.Deny(missing), missing);
            return new FunctionResultContent(call.CallId, missing);
        }

        var decision = await _permissions.DecideAsync(call, cancellationToken);
        if (!decision.Allowed)
        {
            LogDenied(_logger, call.Name);
            var denied = decision.DenialMessage ?? $"The user denied running the tool '{call.Name}'.";
            observer.OnToolResult(call, decision, denied);
            return new FunctionResultContent(call.CallId, denied);
        }

        string result;
        try
        {
            LogRunning(_logger, call.Name);
            var value = await function.InvokeAsync(new AIFunctionArguments(call.Arguments), cancellationToken);
            result = value switch
            {
                null => "(done)",
                string text => text,
                JsonElement { ValueKind: JsonValueKind.String } element => element.GetString() ?? string.Empty,
                JsonElement element => element.GetRawText(),
                _ => JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ToolException ex)
        {
            result = $"Error: {ex.Message}";
        }
        catch (ArgumentException ex)
        {
            // Raised while binding the model's arguments to the tool's parameters.
            result = $"Error: the arguments do not fit the tool: {ex.Message}";
        }
        catch (JsonException ex)
        {
            result = $"Error: the arguments do not fit the tool: {ex.Message}";
        }
#pragma warning disable CA1031 // a failing tool is reported to the model, which may try another way
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogToolFailed(_logger, call.Name, ex);
            result = $"Error: {ex.GetType().Name}: {ex.Message}";
        }

        observer.OnToolResult(call, decision, result);
        return new FunctionResultContent(call.CallId, result);
    }

    private static async Task<ChatResponse> StreamAsync(IChatClient client, List<ChatMessage> request, ChatOptions options, ITurnObserver observer, CancellationToken cancellationToken)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(request, options, cancellationToken))
        {
            updates.Add(update);
            foreach (var content in update.Contents)
            {
                if (content is TextContent { Text.Length: > 0 } text)
                {
                    observer.OnText(text.Text);
                }
            }
        }

        var response = updates.ToChatResponse();
        if (CostReader.Read(response.AdditionalProperties) is null && updates.LastOrDefault(u => CostReader.Read(u.AdditionalProperties) is not null) is { } withCost)
        {
            response.AdditionalProperties ??= [];
            response.AdditionalProperties[CostReader.Key] = CostReader.Read(withCost.AdditionalProperties);
        }

        return response;
    }

    private static TurnResult Result(List<ChatMessage> history, int start, ChatResponse last, UsageDetails? usage, decimal? cost, int calls, int toolCalls, bool limitReached) => new()
    {
        Messages = history.GetRange(start, history.Count - start),
        LastResponse = last,
        Usage = usage,
        CostUsd = cost,
        ModelCalls = calls,
        ToolCalls = toolCalls,
        IterationLimitReached = limitReached,
    };

    private static UsageDetails? Add(UsageDetails? total, UsageDetails? next)
    {
        if (next is null)
        {
            return total;
        }

        if (total is null)
        {
            return new UsageDetails
            {
                InputTokenCount = next.InputTokenCount,
                OutputTokenCount = next.OutputTokenCount,
                TotalTokenCount = next.TotalTokenCount,
                CachedInputTokenCount = next.CachedInputTokenCount,
                ReasoningTokenCount = next.ReasoningTokenCount,
            };
        }

        total.Add(next);
        return total;
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "model call {Iteration}: {Messages}")]
    private static partial void LogRequest(ILogger logger, int iteration, string messages);

    [LoggerMessage(Level = LogLevel.Debug, Message = "running tool {Tool}")]
    private static partial void LogRunning(ILogger logger, string tool);

    [LoggerMessage(Level = LogLevel.Information, Message = "tool {Tool} was denied")]
    private static partial void LogDenied(ILogger logger, string tool);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tool {Tool} failed")]
    private static partial void LogToolFailed(ILogger logger, string tool, Exception exception);
}
