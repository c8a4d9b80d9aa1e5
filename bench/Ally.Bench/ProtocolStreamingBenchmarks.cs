using Ally.Abstractions;
using Ally.Host.Providers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace Ally.Bench;

/// <summary>
/// Parsing a long streamed answer (2,000 text pieces) per protocol, through the real client, with the HTTP layer
/// answered from memory. Divide by <see cref="StreamBodies.Chunks"/> for the cost per chunk.
/// </summary>
[MemoryDiagnoser]
public class ProtocolStreamingBenchmarks
{
    private IChatClient _client = null!;
    private readonly ChatMessage[] _messages = [new(ChatRole.User, "Tell me a long story.")];

    [Params("openai", "anthropic", "gemini", "ollama")]
    public string Protocol { get; set; } = "openai";

    [GlobalSetup]
    public void Setup()
    {
        var (protocol, body, contentType, baseUrl) = Protocol switch
        {
            "openai" => (ProviderProtocol.OpenAI, StreamBodies.OpenAI(), "text/event-stream", "http://bench.local/v1"),
            "anthropic" => (ProviderProtocol.Anthropic, StreamBodies.Anthropic(), "text/event-stream", "http://bench.local"),
            "gemini" => (ProviderProtocol.Gemini, StreamBodies.Gemini(), "text/event-stream", "http://bench.local"),
            _ => (ProviderProtocol.Ollama, StreamBodies.Ollama(), "application/x-ndjson", "http://bench.local"),
        };
        var settings = new ProviderSettings
        {
            Name = Protocol,
            Model = "bench-model",
            BaseUrl = new Uri(baseUrl),
            ApiKey = "bench-key",
            HttpClient = new HttpClient(new MemoryHandler(body, contentType)),
        };
        _client = ProtocolClientFactory.Create(protocol, settings);
    }

    [Benchmark]
    public async Task<int> StreamLongAnswer()
    {
        var pieces = 0;
        await foreach (var update in _client.GetStreamingResponseAsync(_messages))
        {
            if (update.Contents.Count > 0)
            {
                pieces++;
            }
        }

        return pieces;
    }
}
