using System.Text;

namespace Ally.Bench;

/// <summary>Long streamed answers in each protocol's wire format, <see cref="Chunks"/> text pieces each.</summary>
internal static class StreamBodies
{
    public const int Chunks = 2000;

    public static byte[] OpenAI()
    {
        var builder = new StringBuilder();
        for (var i = 0; i < Chunks; i++)
        {
            builder.Append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" word")
                .Append(i).Append("\"},\"finish_reason\":null}],\"usage\":null}\n\n");
        }

        builder.Append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
        builder.Append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2000,\"total_tokens\":2010}}\n\n");
        builder.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    public static byte[] Anthropic()
    {
        var builder = new StringBuilder();
        builder.Append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n");
        builder.Append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        for (var i = 0; i < Chunks; i++)
        {
            builder.Append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" word").Append(i).Append("\"}}\n\n");
        }

        builder.Append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        builder.Append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2000}}\n\n");
        builder.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    public static byte[] Gemini()
    {
        var builder = new StringBuilder();
        for (var i = 0; i < Chunks; i++)
        {
            var finish = i == Chunks - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty;
            builder.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" word").Append(i).Append("\"}],\"role\":\"model\"}").Append(finish)
                .Append(",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":").Append(i + 1)
                .Append(",\"totalTokenCount\":").Append(i + 11).Append("},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n");
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    public static byte[] Ollama()
    {
        var builder = new StringBuilder();
        for (var i = 0; i < Chunks; i++)
        {
            builder.Append("{\"model\":\"llama3.2\",\"created_at\":\"2025-06-01T10:00:00.123456789Z\",\"message\":{\"role\":\"assistant\",\"content\":\" word").Append(i).Append("\"},\"done\":false}\n");
        }

        builder.Append("{\"model\":\"llama3.2\",\"created_at\":\"2025-06-01T10:00:00.123456789Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":2000}\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
