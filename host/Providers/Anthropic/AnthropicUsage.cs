using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Token counts as Anthropic reports them, turned into the provider-neutral <see cref="UsageDetails"/>.</summary>
/// <remarks>
/// Anthropic's <c>input_tokens</c> excludes cache reads and cache writes, unlike OpenAI's <c>prompt_tokens</c>
/// (PROVIDER-QUIRKS.md). <see cref="UsageDetails.InputTokenCount"/> is therefore the sum of all three, so that it
/// means "the whole prompt" for every provider, and the parts that are priced differently are kept apart:
/// <see cref="UsageDetails.CachedInputTokenCount"/> holds the cache reads, and <see cref="UsageDetails.AdditionalCounts"/>
/// holds <c>cache_creation_input_tokens</c> and <c>uncached_input_tokens</c> (the raw <c>input_tokens</c>), which the
/// cost code needs to price each token exactly once.
/// </remarks>
internal sealed class AnthropicUsage
{
    public const string CacheCreationKey = "cache_creation_input_tokens";
    public const string UncachedInputKey = "uncached_input_tokens";

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    public long CacheReadTokens { get; private set; }

    public long CacheCreationTokens { get; private set; }

    public bool HasValues { get; private set; }

    /// <summary>Overwrites the counts present in a <c>usage</c> object and keeps the others.</summary>
    /// <remarks>Streamed counts are cumulative (<c>message_delta</c> repeats the running total): overwrite, never add.</remarks>
    public void Update(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        InputTokens = Read(usage, "input_tokens") ?? InputTokens;
        OutputTokens = Read(usage, "output_tokens") ?? OutputTokens;
        CacheReadTokens = Read(usage, "cache_read_input_tokens") ?? CacheReadTokens;
        CacheCreationTokens = Read(usage, CacheCreationKey) ?? CacheCreationTokens;
        HasValues = true;
    }

    public UsageDetails ToUsageDetails()
    {
        var input = InputTokens + CacheReadTokens + CacheCreationTokens;
        return new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = OutputTokens,

            // Anthropic reports no total, so it is the only computed figure.
            TotalTokenCount = input + OutputTokens,
            CachedInputTokenCount = CacheReadTokens,
            AdditionalCounts = new AdditionalPropertiesDictionary<long>
            {
                [CacheCreationKey] = CacheCreationTokens,
                [UncachedInputKey] = InputTokens,
            },
        };
    }

    private static long? Read(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count)
            ? count
            : null;
}
