using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere;

/// <summary>Represents Cohere's Command models, reached through Cohere's v2 Chat API.</summary>
/// <remarks>
/// The plugin does all its JSON with Newtonsoft.Json, a dependency the host does not have, to show that a plugin's
/// private dependencies load from its own folder.
/// </remarks>
public sealed class CoherePlugin : IProviderPlugin
{
    /// <summary>The API key variable the host reads into <see cref="ProviderSettings.ApiKey"/>.</summary>
    internal const string ApiKeyVariable = "COHERE_API_KEY";

    /// <summary>The variable Cohere's own SDKs read, accepted as a fallback.</summary>
    internal const string SdkApiKeyVariable = "CO_API_KEY";

    internal static readonly Uri DefaultBaseUrl = new("https://api.cohere.com");

    /// <inheritdoc />
    public string Name => "cohere";

    /// <inheritdoc />
    public string DisplayName => "Cohere";

    /// <inheritdoc />
    public IReadOnlyList<string> RequiredEnvVars { get; } = [ApiKeyVariable];

    /// <inheritdoc />
    public string? DefaultModel => "command-a-03-2025";

    /// <inheritdoc />
    public IReadOnlyList<string> KnownModels { get; } =
    [
        "command-a-03-2025",
        "command-r-plus-08-2024",
        "command-r-08-2024",
        "command-r7b-12-2024",
    ];

    /// <inheritdoc />
    /// <remarks>From Cohere's public pricing page, in US dollars per million billed tokens.</remarks>
    public IReadOnlyList<ModelPrice> Prices { get; } =
    [
        new("command-a-03-2025") { InputPerMillion = 2.50m, OutputPerMillion = 10.00m, ContextWindow = 256_000, MaxOutputTokens = 8_000 },
        new("command-r-plus-08-2024") { InputPerMillion = 2.50m, OutputPerMillion = 10.00m, ContextWindow = 128_000, MaxOutputTokens = 4_000 },
        new("command-r-08-2024") { InputPerMillion = 0.15m, OutputPerMillion = 0.60m, ContextWindow = 128_000, MaxOutputTokens = 4_000 },
        new("command-r7b-12-2024") { InputPerMillion = 0.0375m, OutputPerMillion = 0.15m, ContextWindow = 128_000, MaxOutputTokens = 4_000 },
    ];

    /// <inheritdoc />
    public ProviderValidation ValidateConfig(ProviderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);

        if (ResolveApiKey(settings) is null)
        {
            return ProviderValidation.Fail(
                $"Provider '{settings.Name}' has no API key: set {ApiKeyVariable} (or {SdkApiKeyVariable}) in the environment or .env.");
        }

        if (settings.BaseUrl is { } baseUrl &&
            (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)))
        {
            return ProviderValidation.Fail(
                $"Provider '{settings.Name}' has base_url '{baseUrl.OriginalString}', which is not an absolute http or https URL; use for example {DefaultBaseUrl}.");
        }

        return ProviderValidation.Success;
    }

    /// <inheritdoc />
    public IChatClient CreateClient(ProviderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new CohereChatClient(settings, ResolveApiKey(settings), DefaultModel!, TimeProvider.System);
    }

    private static string? ResolveApiKey(ProviderSettings settings) =>
        !string.IsNullOrWhiteSpace(settings.ApiKey)
            ? settings.ApiKey
            : settings.GetValue(SdkApiKeyVariable) ?? settings.GetValue(ApiKeyVariable);
}
