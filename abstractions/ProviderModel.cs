namespace Ally.Abstractions;

/// <summary>Represents one model that a provider serves.</summary>
/// <param name="Id">The model id as the provider's API expects it.</param>
public sealed record ProviderModel(string Id)
{
    /// <summary>Gets the model's display name, when the provider reports one.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Gets the owner the provider reports (for example <c>openai</c>), when any.</summary>
    public string? OwnedBy { get; init; }

    /// <summary>Gets the context window in tokens, when the provider reports it.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Gets the maximum number of output tokens, when the provider reports it.</summary>
    public int? MaxOutputTokens { get; init; }
}
