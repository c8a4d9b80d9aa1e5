using System.Text.Json.Nodes;
using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Gemini;

/// <summary>Reads a <c>generateContent</c> answer, and the pieces of it that streamed chunks share.</summary>
internal static class GeminiResponseParser
{
    public static ChatResponse Parse(JsonObject root, string provider, string requestedModel, DateTimeOffset now)
    {
        var candidate = FirstCandidate(root);
        if (candidate is null && GeminiJson.GetObject(root, "promptFeedback") is { } feedback &&
            GeminiJson.GetString(feedback, "blockReason") is not null)
        {
            throw GeminiErrors.Blocked(provider, feedback);
        }

        var reader = new GeminiPartReader();
        var contents = new List<AIContent>();
        reader.Read(GeminiJson.GetArray(GeminiJson.GetObject(candidate, "content"), "parts"), contents);

        var responseId = GeminiJson.GetString(root, "responseId");
        var modelId = GeminiJson.GetString(root, "modelVersion") ?? requestedModel;
        var createdAt = CreatedAt(root) ?? now;
        var message = new ChatMessage(ChatRole.Assistant, contents)
        {
            MessageId = responseId,
            CreatedAt = createdAt,
            RawRepresentation = candidate,
        };

        return new ChatResponse(message)
        {
            ResponseId = responseId,
            ModelId = modelId,
            CreatedAt = createdAt,
            FinishReason = MapFinishReason(GeminiJson.GetString(candidate, "finishReason"), reader.SawFunctionCall),
            Usage = ParseUsage(GeminiJson.GetObject(root, "usageMetadata")),
            RawRepresentation = root,
        };
    }

    public static JsonObject? FirstCandidate(JsonObject root) =>
        GeminiJson.GetArray(root, "candidates") is { Count: > 0 } candidates ? candidates[0] as JsonObject : null;

    /// <summary>Vertex AI reports <c>createTime</c>; the Gemini API reports no time at all.</summary>
    public static DateTimeOffset? CreatedAt(JsonObject root) =>
        GeminiJson.GetString(root, "createTime") is { } text &&
        DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : null;

    public static ChatFinishReason? MapFinishReason(string? reason, bool sawFunctionCall)
    {
        // Function calls finish with STOP (PROVIDER-QUIRKS.md): find them by presence, not by the reason.
        if (sawFunctionCall)
        {
            return ChatFinishReason.ToolCalls;
        }

        return reason switch
        {
            null or "" => null,
            "STOP" => ChatFinishReason.Stop,
            "MAX_TOKENS" => ChatFinishReason.Length,
            "SAFETY" or "RECITATION" or "PROHIBITED_CONTENT" or "BLOCKLIST" or "SPII" or
                "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" or "IMAGE_RECITATION" => ChatFinishReason.ContentFilter,
            _ => new ChatFinishReason(reason),
        };
    }

    public static UsageDetails? ParseUsage(JsonObject? usage)
    {
        if (usage is null)
        {
            return null;
        }

        var prompt = GeminiJson.GetLong(usage, "promptTokenCount");

        // toolUsePromptTokenCount is what the model read back from Google's own tools (search grounding, code
        // execution, URL context): reported outside promptTokenCount, inside totalTokenCount, billed as input.
        var toolUse = GeminiJson.GetLong(usage, "toolUsePromptTokenCount");
        long? input = prompt is null && toolUse is null ? null : (prompt ?? 0) + (toolUse ?? 0);
        var candidates = GeminiJson.GetLong(usage, "candidatesTokenCount");
        var thoughts = GeminiJson.GetLong(usage, "thoughtsTokenCount");

        // Thought tokens are reported outside candidatesTokenCount but billed as output (PROVIDER-QUIRKS.md).
        long? output = candidates is null && thoughts is null ? null : (candidates ?? 0) + (thoughts ?? 0);
        long? total = GeminiJson.GetLong(usage, "totalTokenCount")
            ?? (input is null && output is null ? null : (input ?? 0) + (output ?? 0));
        var details = new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = total,
            ReasoningTokenCount = thoughts,
            CachedInputTokenCount = GeminiJson.GetLong(usage, "cachedContentTokenCount"),
        };

        if (toolUse is { } toolUseCount)
        {
            details.AdditionalCounts = new() { ["toolUsePromptTokenCount"] = toolUseCount };
        }

        return details;
    }
}
