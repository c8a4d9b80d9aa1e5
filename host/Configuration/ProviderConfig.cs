namespace Ally.Host.Configuration;

/// <summary>One entry of config.json's <c>providers</c> object: settings for one provider, or a new provider.</summary>
internal sealed record ProviderConfig
{
    /// <summary>Gets the provider's name (the entry's key), lower case.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Gets the protocol of a provider defined by configuration alone: <c>openai-compatible</c>,
    /// <c>anthropic-compatible</c>, <c>gemini</c>, <c>ollama</c> or <c>azure</c>; <see langword="null"/> for an entry
    /// that configures an installed provider.
    /// </summary>
    public string? Type { get; init; }

    /// <summary>Gets the base URL that replaces the provider's own (absolute http or https).</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Gets the environment variable that holds the key, replacing the provider's usual one.</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>Gets the model used when no role or flag names one.</summary>
    public string? DefaultModel { get; init; }

    /// <summary>Gets the request timeout in seconds (1 to 3600); <see langword="null"/> means 120.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets every other entry of the provider, as text, for the provider's own use (for example <c>group_id</c>).</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}
