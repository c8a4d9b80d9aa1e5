using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Cli;

/// <summary>The JSON objects the command line prints: one turn's result, and a failure.</summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    public static string Result(ChatResponse response, string provider, string? model, decimal? costUsd, JsonArray attempts, bool toolsRan = false)
    {
        var toolCalls = new JsonArray();
        foreach (var call in response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>())
        {
            toolCalls.Add(new JsonObject
            {
                ["id"] = call.CallId,
                ["name"] = call.Name,
                ["arguments"] = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>()),
            });
        }

        var usage = response.Usage;
        var hasToolCalls = toolCalls.Count > 0;
        var result = new JsonObject
        {
            ["text"] = response.Text,
            ["provider"] = provider,
            ["model"] = response.ModelId ?? model,
            // After the tool loop ran the calls, the finish is the last call's; without it, calls are left to the caller.
            ["finish_reason"] = hasToolCalls && !toolsRan ? "tool_calls" : FinishReason(response.FinishReason),
            ["tool_calls"] = toolCalls,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = usage?.InputTokenCount,
                ["output_tokens"] = usage?.OutputTokenCount,
                ["total_tokens"] = usage?.TotalTokenCount,
                ["cached_input_tokens"] = usage?.CachedInputTokenCount,
                ["reasoning_tokens"] = usage?.ReasoningTokenCount,
            },
            ["cost_usd"] = costUsd,
            ["attempts"] = attempts,
        };
        return result.ToJsonString(Options);
    }

    /// <summary>Maps a finish reason to the names the JSON output uses: stop, length, tool_calls, content_filter.</summary>
    public static string FinishReason(ChatFinishReason? reason) =>
        reason == ChatFinishReason.Length ? "length"
        : reason == ChatFinishReason.ToolCalls ? "tool_calls"
        : reason == ChatFinishReason.ContentFilter ? "content_filter"
        : "stop";

    public static string Error(string kind, string message, string? provider, int? status, string? partialText) =>
        new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["kind"] = kind,
                ["message"] = message,
                ["provider"] = provider,
                ["status"] = status,
            },
            ["text"] = partialText,
        }.ToJsonString(Options);
}
