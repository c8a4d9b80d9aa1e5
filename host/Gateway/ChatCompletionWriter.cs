using System.Buffers;
using System.Text.Json;
using Ally.Host.Cli;
using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>Writes Chat Completions answers and stream chunks in OpenAI's schema.</summary>
/// <remarks>See https://platform.openai.com/docs/api-reference/chat/object and /chat/streaming.</remarks>
internal static class ChatCompletionWriter
{
    public static void WriteCompletion(Utf8JsonWriter writer, CompletionHeader header, ChatResponse response)
    {
        string? text = null;
        string? reasoning = null;
        var hasToolCalls = false;
        // Index loops: foreach over the IList properties would box an enumerator per message.
        var messages = response.Messages;
        for (var m = 0; m < messages.Count; m++)
        {
            var contents = messages[m].Contents;
            for (var c = 0; c < contents.Count; c++)
            {
                switch (contents[c])
                {
                    case TextContent t:
                        text = text is null ? t.Text : text + t.Text;
                        break;
                    case TextReasoningContent r:
                        reasoning = reasoning is null ? r.Text : reasoning + r.Text;
                        break;
                    case FunctionCallContent:
                        hasToolCalls = true;
                        break;
                    default:
                        break;
                }
            }
        }

        writer.WriteStartObject();
        writer.WriteString("id", header.Id);
        writer.WriteString("object", "chat.completion");
        writer.WriteNumber("created", header.Created);
        writer.WriteString("model", header.Model);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("message");
        writer.WriteString("role", "assistant");
        WriteStringOrNull(writer, "content", text is { Length: > 0 } || !hasToolCalls ? text ?? string.Empty : null);
        if (reasoning is { Length: > 0 })
        {
            writer.WriteString("reasoning_content", reasoning);
        }

        writer.WriteNull("refusal");
        if (hasToolCalls)
        {
            writer.WriteStartArray("tool_calls");
            for (var m = 0; m < messages.Count; m++)
            {
                foreach (var call in messages[m].Contents.OfType<FunctionCallContent>())
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", call.CallId);
                    writer.WriteString("type", "function");
                    writer.WriteStartObject("function");
                    writer.WriteString("name", call.Name);
                    WriteArguments(writer, call.Arguments);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", hasToolCalls ? "tool_calls" : JsonOutput.FinishReason(response.FinishReason));
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (response.Usage is { } usage)
        {
            WriteUsage(writer, usage);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes a chunk whose delta carries text, reasoning and, on the first chunk, the role.</summary>
    public static void WriteContentChunk(Utf8JsonWriter writer, CompletionHeader header, bool withRole, string? text, string? reasoning)
    {
        StartChunk(writer, header);
        if (withRole)
        {
            writer.WriteString("role", "assistant");
        }

        if (text is not null)
        {
            writer.WriteString("content", text);
        }

        if (reasoning is not null)
        {
            writer.WriteString("reasoning_content", reasoning);
        }

        EndChunk(writer, finishReason: null);
    }

    /// <summary>Writes the first chunk of a tool call: its index, id and name, with empty arguments.</summary>
    public static void WriteToolCallStart(Utf8JsonWriter writer, CompletionHeader header, bool withRole, int index, FunctionCallContent call)
    {
        StartChunk(writer, header);
        if (withRole)
        {
            writer.WriteString("role", "assistant");
            writer.WriteNull("content");
        }

        writer.WriteStartArray("tool_calls");
        writer.WriteStartObject();
        writer.WriteNumber("index", index);
        writer.WriteString("id", call.CallId);
        writer.WriteString("type", "function");
        writer.WriteStartObject("function");
        writer.WriteString("name", call.Name);
        writer.WriteString("arguments", string.Empty);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
        EndChunk(writer, finishReason: null);
    }

    /// <summary>Writes a tool call's arguments, as OpenAI streams them after the call's header.</summary>
    public static void WriteToolCallArguments(Utf8JsonWriter writer, CompletionHeader header, int index, FunctionCallContent call)
    {
        StartChunk(writer, header);
        writer.WriteStartArray("tool_calls");
        writer.WriteStartObject();
        writer.WriteNumber("index", index);
        writer.WriteStartObject("function");
        WriteArguments(writer, call.Arguments);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
        EndChunk(writer, finishReason: null);
    }

    public static void WriteFinishChunk(Utf8JsonWriter writer, CompletionHeader header, string finishReason)
    {
        StartChunk(writer, header);
        EndChunk(writer, finishReason);
    }

    /// <summary>Writes the usage chunk of <c>stream_options.include_usage</c>: empty choices and the usage.</summary>
    public static void WriteUsageChunk(Utf8JsonWriter writer, CompletionHeader header, UsageDetails usage)
    {
        writer.WriteStartObject();
        WriteChunkHeader(writer, header);
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteEndObject();
    }

    public static void WriteUsage(Utf8JsonWriter writer, UsageDetails usage)
    {
        var input = usage.InputTokenCount ?? 0;
        var output = usage.OutputTokenCount ?? 0;
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", input);
        writer.WriteNumber("completion_tokens", output);
        writer.WriteNumber("total_tokens", usage.TotalTokenCount ?? input + output);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedInputTokenCount ?? 0);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", usage.ReasoningTokenCount ?? 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void StartChunk(Utf8JsonWriter writer, CompletionHeader header)
    {
        writer.WriteStartObject();
        WriteChunkHeader(writer, header);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
    }

    private static void EndChunk(Utf8JsonWriter writer, string? finishReason)
    {
        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        WriteStringOrNull(writer, "finish_reason", finishReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteChunkHeader(Utf8JsonWriter writer, CompletionHeader header)
    {
        writer.WriteString("id", header.Id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", header.Created);
        writer.WriteString("model", header.Model);
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Writes <c>"arguments"</c>: the arguments object serialized to a JSON string, as the wire format wants.</summary>
    private static void WriteArguments(Utf8JsonWriter writer, IDictionary<string, object?>? arguments)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var inner = new Utf8JsonWriter(buffer, GatewayJson.WriterOptions))
        {
            inner.WriteStartObject();
            if (arguments is not null)
            {
                foreach (var (name, value) in arguments)
                {
                    inner.WritePropertyName(name);
                    WriteValue(inner, value);
                }
            }

            inner.WriteEndObject();
        }

        writer.WriteString("arguments", buffer.WrittenSpan);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int number:
                writer.WriteNumberValue(number);
                break;
            case long number:
                writer.WriteNumberValue(number);
                break;
            case double number:
                writer.WriteNumberValue(number);
                break;
            case decimal number:
                writer.WriteNumberValue(number);
                break;
            default:
                // Rare: a plugin that parses arguments into its own types; AIJsonUtilities knows MEAI's.
                JsonSerializer.Serialize(writer, value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType()));
                break;
        }
    }
}
