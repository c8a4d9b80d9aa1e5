namespace Ally.Host.Pricing;

/// <summary>The price and limits of one model, in US dollars per million tokens.</summary>
/// <remarks>
/// Above <see cref="AboveTokens"/> prompt tokens the whole call is billed at the <c>*Above</c> prices (Anthropic's
/// and Gemini's long-context tiers work that way). A missing cached or cache-write price means the provider gives no
/// discount, so those tokens cost the input price.
/// </remarks>
internal sealed record PriceEntry
{
    public decimal? Input { get; init; }

    public decimal? Output { get; init; }

    public decimal? CachedInput { get; init; }

    public decimal? CacheWrite { get; init; }

    /// <summary>Gets the price of reasoning tokens when it differs from <see cref="Output"/>.</summary>
    public decimal? Reasoning { get; init; }

    /// <summary>Gets the prompt size above which the tiered prices apply, or <see langword="null"/> when the model has one tier.</summary>
    public long? AboveTokens { get; init; }

    public decimal? InputAbove { get; init; }

    public decimal? OutputAbove { get; init; }

    public decimal? CachedInputAbove { get; init; }

    public decimal? CacheWriteAbove { get; init; }

    public int? ContextWindow { get; init; }

    public int? MaxOutput { get; init; }

    /// <summary>Gets whether the entry prices anything at all (an entry with only limits leaves the cost unknown).</summary>
    public bool HasPrices => Input is not null || Output is not null;

    /// <summary>Lays this entry (an override) over <paramref name="fallback"/>.</summary>
    /// <remarks>
    /// Prices come as a set: an override that names any price replaces all of them, so a stale long-context tier
    /// cannot survive a new base price. Limits an override leaves out are kept.
    /// </remarks>
    public PriceEntry Over(PriceEntry? fallback)
    {
        if (fallback is null)
        {
            return this;
        }

        var prices = HasPrices ? this : fallback;
        return prices with
        {
            ContextWindow = ContextWindow ?? fallback.ContextWindow,
            MaxOutput = MaxOutput ?? fallback.MaxOutput,
        };
    }
}
