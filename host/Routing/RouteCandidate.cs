namespace Ally.Host.Routing;

/// <summary>A provider, and optionally a model, that the router may send a call to.</summary>
/// <param name="Provider">The provider's name as used in config.json.</param>
/// <param name="Model">The model, or <see langword="null"/> for the provider's default.</param>
internal sealed record RouteCandidate(string Provider, string? Model)
{
    /// <summary>Parses a <c>fallbacks</c> entry: <c>provider</c> or <c>provider/model</c> (the model may contain slashes: <c>openrouter/anthropic/claude-3.5-sonnet</c>).</summary>
    public static RouteCandidate? TryParse(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return null;
        }

        var text = entry.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return new RouteCandidate(text, null);
        }

        var provider = text[..slash].Trim();
        var model = text[(slash + 1)..].Trim();
        return provider.Length == 0 || model.Length == 0 ? null : new RouteCandidate(provider, model);
    }

    public override string ToString() => Model is null ? Provider : $"{Provider}/{Model}";
}
