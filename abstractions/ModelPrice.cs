namespace Ally.Abstractions;

/// <summary>Represents the price and limits of one model, in US dollars per million tokens.</summary>
/// <param name="Model">The model id.</param>
public sealed record ModelPrice(string Model)
{
    /// <summary>Gets the price of a million input tokens that were not read from a cache.</summary>
    public decimal? InputPerMillion { get; init; }

    /// <summary>Gets the price of a million output tokens, reasoning tokens included unless priced separately.</summary>
    public decimal? OutputPerMillion { get; init; }

    /// <summary>Gets the price of a million input tokens read from the provider's prompt cache.</summary>
    public decimal? CachedInputPerMillion { get; init; }

    /// <summary>Gets the price of a million input tokens written to the provider's prompt cache.</summary>
    public decimal? CacheWritePerMillion { get; init; }

    /// <summary>Gets the price of a million reasoning tokens, when it differs from the output price.</summary>
    public decimal? ReasoningPerMillion { get; init; }

    /// <summary>Gets the context window in tokens.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Gets the maximum number of output tokens.</summary>
    public int? MaxOutputTokens { get; init; }
}
