using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Routing;

/// <summary>
/// Each protocol's real client answers from a loopback server with the usage shape its provider really sends, and
/// the router prices it from the built-in table: every prompt token charged once, reasoning charged as output.
/// </summary>
public sealed class RouterWireCostTests
{
    public static TheoryData<string, bool, decimal> Cases()
    {
        var data = new TheoryData<string, bool, decimal>();
        foreach (var streamed in new[] { false, true })
        {
            // gpt-4o: $2.50 in, $1.25 cached, $10 out; prompt_tokens (1,000) include the 400 cached.
            data.Add("openai", streamed, ((600 * 2.50m) + (400 * 1.25m) + (500 * 10m)) / 1_000_000m);

            // claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write, $15 out; input_tokens (2,000) exclude
            // the 6,000 read and the 2,000 written.
            data.Add("anthropic", streamed, ((2_000 * 3m) + (6_000 * 0.30m) + (2_000 * 3.75m) + (1_000 * 15m)) / 1_000_000m);

            // gemini-2.5-pro: $1.25 in, $10 out; the 2,000 thought tokens are outside candidatesTokenCount (1,000).
            data.Add("google", streamed, ((1_000 * 1.25m) + (3_000 * 10m)) / 1_000_000m);

            // o3: $2 in, $8 out; completion_tokens (3,000) include the 2,500 reasoning tokens: charged once.
            data.Add("openai-reasoning", streamed, ((1_000 * 2m) + (3_000 * 8m)) / 1_000_000m);

            // grok-4: $3 in, $15 out; xAI leaves the 700 reasoning tokens out of completion_tokens (500) and bills them.
            data.Add("xai", streamed, ((1_000 * 3m) + ((500 + 700) * 15m)) / 1_000_000m);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GetResponse_ProviderUsageOnTheWire_CostsWhatTheProviderBills(string provider, bool streamed, decimal expected)
    {
        // Given
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(AnswerAsync, cancellationToken);
        var root = server.BaseAddress.ToString().TrimEnd('/');
        var (protocol, model, baseUrl) = provider switch
        {
            "openai" => (ProviderProtocol.OpenAI, "gpt-4o", root + "/v1"),
            "openai-reasoning" => (ProviderProtocol.OpenAI, "o3", root + "/v1"),
            "xai" => (ProviderProtocol.OpenAI, "grok-4", root + "/v1"),
            "anthropic" => (ProviderProtocol.Anthropic, "claude-sonnet-4-5", root),
            _ => (ProviderProtocol.Gemini, "gemini-2.5-pro", root),
        };
        provider = provider == "openai-reasoning" ? "openai" : provider;
        using var client = ProtocolClientFactory.Create(protocol, new ProviderSettings { Name = provider, Model = model, BaseUrl = new Uri(baseUrl), ApiKey = "test-key-0123456789" });
        using var state = new RouterState(new RoutingConfig { Router = RouterHarness.FastOptions });
        using var router = new RouterChatClient(new SingleClientSource(provider, client), new RouteCandidate(provider, null), state, PriceTable.BuiltIn);

        // When
        var response = await RouterHarness.AskAsync(router, streamed, cancellationToken: cancellationToken);

        // Then
        Assert.Equal("Hi", response.Text);
        Assert.Equal(expected, response.AdditionalProperties![RouterAttempts.CostKey]);
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var stream = body.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        string[] pieces;
        if (path.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            var model = body.RootElement.GetProperty("model").GetString();
            var usage = model switch
            {
                "o3" => """{"prompt_tokens":1000,"completion_tokens":3000,"total_tokens":4000,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2500}}""",
                "grok-4" => """{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":2200,"prompt_tokens_details":{"text_tokens":1000,"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":700},"num_sources_used":0}""",
                _ => """{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":400},"completion_tokens_details":{"reasoning_tokens":0}}""",
            };
            pieces = stream
                ?
                [
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n",
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":" + usage + "}\n\n",
                    "data: [DONE]\n\n",
                ]
                : ["{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":" + usage + "}"];

            // The server names the model it ran: the dated gpt-4o, or the one asked for.
            pieces = [.. pieces.Select(p => model is "o3" or "grok-4" ? p.Replace("gpt-4o-2024-08-06", model, StringComparison.Ordinal) : p)];
        }
        else if (path.EndsWith("/v1/messages", StringComparison.Ordinal))
        {
            pieces = stream
                ?
                [
                    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"usage\":{\"input_tokens\":2000,\"cache_creation_input_tokens\":2000,\"cache_read_input_tokens\":6000,\"output_tokens\":1}}}\n\n",
                    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
                    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
                    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
                    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1000}}\n\n",
                    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
                ]
                : ["{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":2000,\"cache_creation_input_tokens\":2000,\"cache_read_input_tokens\":6000,\"output_tokens\":1000}}"];
        }
        else
        {
            const string candidate = "{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\",\"index\":0}";
            const string usage = "{\"promptTokenCount\":1000,\"candidatesTokenCount\":1000,\"thoughtsTokenCount\":2000,\"totalTokenCount\":4000}";
            pieces = path.Contains(":streamGenerateContent", StringComparison.Ordinal)
                ?
                [
                    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"H\"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":1000,\"candidatesTokenCount\":1,\"thoughtsTokenCount\":2000,\"totalTokenCount\":3001},\"modelVersion\":\"gemini-2.5-pro\"}\r\n\r\n",
                    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"i\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":" + usage + ",\"modelVersion\":\"gemini-2.5-pro\"}\r\n\r\n",
                ]
                : ["{\"candidates\":[" + candidate + "],\"usageMetadata\":" + usage + ",\"modelVersion\":\"gemini-2.5-pro\"}"];
        }

        context.Response.ContentType = pieces.Length > 1 ? "text/event-stream" : "application/json";
        await LoopbackServer.WritePiecesAsync(context, pieces);
    }

    private sealed class SingleClientSource(string name, IChatClient client) : IProviderClientSource
    {
        public IChatClient GetClient(string provider, string? model) =>
            string.Equals(provider, name, StringComparison.OrdinalIgnoreCase) ? client : throw new InvalidOperationException($"No provider {provider}.");
    }
}
