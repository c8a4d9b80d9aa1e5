using Microsoft.Extensions.AI;

namespace Ally.Host.Pricing;

/// <summary>Turns the usage a provider reported into US dollars.</summary>
/// <remarks>
/// Every protocol client reports usage with one meaning (see the provider client contract):
/// <see cref="UsageDetails.InputTokenCount"/> is the whole prompt, cache reads (<see cref="UsageDetails.CachedInputTokenCount"/>)
/// and cache writes (<c>AdditionalCounts["cache_creation_input_tokens"]</c>, Anthropic) included, which is how OpenAI
/// reports <c>prompt_tokens</c> and how the Anthropic client adds up <c>input_tokens</c> and its cache counts. Each
/// prompt token is therefore charged once: cache reads at the cached price, cache writes at the cache-write price, the
/// rest at the input price. Reasoning tokens are inside <see cref="UsageDetails.OutputTokenCount"/>, as MEAI defines
/// it: OpenAI's <c>completion_tokens</c> include them, the Gemini client adds <c>thoughtsTokenCount</c> to the output,
/// and the OpenAI client adds xAI's reasoning tokens, which xAI leaves out of <c>completion_tokens</c>.
/// </remarks>
internal static class CostCalculator
{
    public const string CacheWriteCountKey = "cache_creation_input_tokens";

    private const decimal PerMillion = 1_000_000m;

    /// <summary>Computes the cost of a call, or <see langword="null"/> when it is unknown (no price or no usage); never a made-up zero.</summary>
    public static decimal? Compute(PriceEntry? price, UsageDetails? usage)
    {
        if (price is null || usage is null || !price.HasPrices)
        {
            return null;
        }

        var input = Math.Max(0, usage.InputTokenCount ?? 0);
        var output = Math.Max(0, usage.OutputTokenCount ?? 0);
        var cached = Math.Clamp(usage.CachedInputTokenCount ?? 0, 0, input);
        var cacheWrite = usage.AdditionalCounts is { } counts && counts.TryGetValue(CacheWriteCountKey, out var writes)
            ? Math.Clamp(writes, 0, input - cached)
            : 0;
        var uncached = input - cached - cacheWrite;

        // Reasoning is part of the output (UsageDetails.ReasoningTokenCount's definition). The total is not used: it
        // also counts tokens billed elsewhere (Gemini's toolUsePromptTokenCount), which must not be charged again.
        var reasoning = Math.Min(Math.Max(0, usage.ReasoningTokenCount ?? 0), output);

        var tiered = price.AboveTokens is { } threshold && input > threshold;
        var inputPrice = tiered ? price.InputAbove ?? price.Input : price.Input;
        var outputPrice = tiered ? price.OutputAbove ?? price.Output : price.Output;
        var cachedPrice = (tiered ? price.CachedInputAbove ?? price.CachedInput : price.CachedInput) ?? inputPrice;
        var writePrice = (tiered ? price.CacheWriteAbove ?? price.CacheWrite : price.CacheWrite) ?? inputPrice;
        var reasoningPrice = price.Reasoning ?? outputPrice;

        decimal cost = 0;
        if (!TryAdd(ref cost, uncached, inputPrice) ||
            !TryAdd(ref cost, cached, cachedPrice) ||
            !TryAdd(ref cost, cacheWrite, writePrice) ||
            !TryAdd(ref cost, output - reasoning, outputPrice) ||
            !TryAdd(ref cost, reasoning, reasoningPrice))
        {
            return null;
        }

        return cost;
    }

    /// <summary>Estimates the cost of a call before it is made, or <see langword="null"/> when the model has no price.</summary>
    public static decimal? Estimate(PriceEntry? price, long inputTokens, long outputTokens) =>
        Compute(price, new UsageDetails { InputTokenCount = inputTokens, OutputTokenCount = outputTokens });

    private static bool TryAdd(ref decimal cost, long tokens, decimal? perMillion)
    {
        if (tokens <= 0)
        {
            return true;
        }

        if (perMillion is not { } p)
        {
            // Tokens of a kind the table has no price for: the cost is unknown, not lower.
            return false;
        }

        cost += tokens * p / PerMillion;
        return true;
    }
}
