namespace Ally.Host.Gateway;

/// <summary>The models of one provider: from its API (<c>api</c>), or the plugin's known list (<c>known</c>) when listing failed.</summary>
internal sealed record ProviderModels(string Provider, IReadOnlyList<string> Models, string Source, string? Error);
