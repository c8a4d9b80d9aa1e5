using System.Buffers;
using System.Text;
using System.Text.Json;
using Ally.Host.Gateway;
using Ally.Host.Providers.OpenAI;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace Ally.Bench;

/// <summary>
/// What the gateway spends translating one small call between OpenAI's wire format and MEAI, step by step, with the
/// bodies the gateway load test sends and its fake upstream answers: the request read into messages, the upstream
/// body built and serialized, the answer parsed, and the answer written for the client.
/// </summary>
[MemoryDiagnoser]
public class GatewayTranslationBenchmarks
{
    private static readonly byte[] ClientBody = Encoding.UTF8.GetBytes(
        """{"model":"fake/gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"temperature":0.2,"max_tokens":64}""");

    private static readonly byte[] UpstreamAnswer = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today? hold00000123us"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}""");

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private GatewayChatRequest _request = null!;
    private ChatResponse _response = null!;

    [GlobalSetup]
    public void Setup()
    {
        _request = (GatewayChatRequest)ReadRequest();
        _response = ParseAnswer();
    }

    [Benchmark]
    public object ReadRequest()
    {
        using var document = JsonDocument.Parse(ClientBody);
        return ChatRequestReader.Read(document.RootElement);
    }

    [Benchmark]
    public byte[] BuildUpstreamBody() =>
        JsonSerializer.SerializeToUtf8Bytes(new OpenAIRequestBuilder(openAIProper: false, defaultTemperature: null).Build(_request.Messages, _request.Options, "gpt-4o-mini", stream: false));

    [Benchmark]
    public ChatResponse ParseAnswer()
    {
        var text = Encoding.UTF8.GetString(UpstreamAnswer);
        using var document = JsonDocument.Parse(text);
        return OpenAIResponseParser.ParseCompletion(document.RootElement);
    }

    [Benchmark]
    public int WriteAnswer()
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer, GatewayJson.WriterOptions);
        ChatCompletionWriter.WriteCompletion(writer, new CompletionHeader(CompletionHeader.NewId(), 1, "fake/gpt-4o-mini"), _response);
        writer.Flush();
        return _buffer.WrittenCount;
    }
}
