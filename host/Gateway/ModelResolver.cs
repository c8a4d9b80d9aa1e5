using Ally.Host.Providers;

namespace Ally.Host.Gateway;

/// <summary>
/// Turns a request's <c>model</c> into a provider and a model: an alias from config.json, <c>provider/model</c>, or a
/// bare model of the default provider. A leading segment that names no provider belongs to the model
/// (<c>openai/gpt-oss-120b</c> on Groq), so bare models with slashes still reach the default provider.
/// </summary>
internal sealed class ModelResolver
{
    private readonly ProviderRegistry _registry;
    private readonly GatewayState _state;
    private readonly IReadOnlyDictionary<string, string> _aliases;

    public ModelResolver(ProviderRegistry registry, GatewayState state, IReadOnlyDictionary<string, string> aliases)
    {
        _registry = registry;
        _state = state;
        _aliases = aliases;
    }

    /// <summary>Resolves the model or throws a <see cref="GatewayException"/> with 404 <c>model_not_found</c>.</summary>
    public ResolvedModel Resolve(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (_aliases.TryGetValue(model, out var target))
        {
            return ResolveQualified(target, model) ?? throw NotFound($"The alias '{model}' names '{target}', whose provider is not installed.");
        }

        if (ResolveQualified(model, model) is { } qualified)
        {
            return qualified;
        }

        var provider = _state.DefaultProvider;
        if (provider is null || _registry.Find(provider) is not { } entry)
        {
            throw NotFound($"The model '{model}' does not exist: name it as provider/model (GET /v1/models lists them); this gateway has no default provider.");
        }

        return new ResolvedModel(entry.Name, model);
    }

    private ResolvedModel? ResolveQualified(string text, string asked)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return null;
        }

        if (_registry.Find(text[..slash]) is not { } entry)
        {
            return null;
        }

        var model = text[(slash + 1)..];
        return model.Length > 0 ? new ResolvedModel(entry.Name, model) : throw NotFound($"The model '{asked}' names the provider '{entry.Name}' but no model.");
    }

    private static GatewayException NotFound(string message) => new(GatewayErrors.ModelNotFound(message));
}
