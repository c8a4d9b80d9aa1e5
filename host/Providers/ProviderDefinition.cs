namespace Ally.Host.Providers;

/// <summary>Everything needed to serve a provider over one of the built-in protocols: a built-in or a config entry.</summary>
internal sealed record ProviderDefinition
{
    public required string Name { get; init; }

    public required string DisplayName { get; init; }

    public required ProviderProtocol Protocol { get; init; }

    /// <summary>Gets the documented base URL, or <see langword="null"/> when the user must give one (Azure).</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Gets a variable that replaces the base URL when set (for example <c>OLLAMA_HOST</c>).</summary>
    public string? BaseUrlVariable { get; init; }

    /// <summary>
    /// Gets variables that supply a setting when config.json's <c>providers.NAME</c> entry has none, by the setting's
    /// key (for example <c>api_version</c> from <c>AZURE_OPENAI_API_VERSION</c>); the first variable set wins.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> SettingVariables { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Gets a variable naming the model used when no role, flag or <c>default_model</c> names one (<c>AZURE_OPENAI_DEPLOYMENT</c>).</summary>
    public string? DefaultModelVariable { get; init; }

    /// <summary>Gets the variables that may hold the key, the original Ally name first, then the vendors' usual names.</summary>
    public IReadOnlyList<string> KeyVariables { get; init; } = [];

    /// <summary>Gets a value indicating whether calls need a key (local servers do not).</summary>
    public bool KeyRequired { get; init; } = true;

    public string? DefaultModel { get; init; }

    public IReadOnlyList<string> KnownModels { get; init; } = [];

    /// <summary>Gets other names the provider answers to (for example <c>gemini</c> for <c>google</c>).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
}
