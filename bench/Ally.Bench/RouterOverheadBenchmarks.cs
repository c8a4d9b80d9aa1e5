using System.Runtime.CompilerServices;
using System.Text.Json;
using Ally.Host.Pricing;
using Ally.Host.Routing;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace Ally.Bench;

/// <summary>
/// The router's added time and allocations per call: an in-memory provider called directly, and through the router
/// (candidate ordering, Polly pipeline, timeouts, cost, attempts), without a usage store.
/// </summary>
[MemoryDiagnoser]
public class RouterOverheadBenchmarks
{
    private readonly ChatMessage[] _messages = [new(ChatRole.User, "hi")];
    private InMemoryChatClient _provider = null!;
    private IChatClient _router = null!;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new InMemoryChatClient();
        using var config = JsonDocument.Parse("""{ "fallbacks": ["backup"] }""");
        var routing = RoutingConfig.Parse(config.RootElement, "config.json");
        _router = RouterChatClient.Create(new SingleSource(_provider), new RouteCandidate("openai", "gpt-4o-mini"), routing, PriceTable.BuiltIn);
    }

    [Benchmark(Baseline = true)]
    public Task<ChatResponse> Direct() => _provider.GetResponseAsync(_messages);

    [Benchmark]
    public Task<ChatResponse> ThroughRouter() => _router.GetResponseAsync(_messages);

    [Benchmark]
    public async Task<int> DirectStream()
    {
        var count = 0;
        await foreach (var update in _provider.GetStreamingResponseAsync(_messages))
        {
            count += update.Contents.Count;
        }

        return count;
    }

    [Benchmark]
    public async Task<int> ThroughRouterStream()
    {
        var count = 0;
        await foreach (var update in _router.GetStreamingResponseAsync(_messages))
        {
            count += update.Contents.Count;
        }

        return count;
    }

    private sealed class SingleSource(IChatClient client) : IProviderClientSource
    {
        public IChatClient GetClient(string provider, string? model) => client;
    }

    private sealed class InMemoryChatClient : IChatClient
    {
        private static readonly UsageDetails Usage = new() { InputTokenCount = 10, OutputTokenCount = 5, TotalTokenCount = 15 };

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello there")) { ModelId = "gpt-4o-mini", FinishReason = ChatFinishReason.Stop, Usage = Usage });

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.CompletedTask;
            for (var i = 0; i < 10; i++)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, "word ") { ModelId = "gpt-4o-mini" };
            }

            yield return new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop, Contents = [new UsageContent(Usage)] };
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
