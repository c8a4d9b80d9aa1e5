using Ally.Abstractions;
using Ally.Host.Providers.OpenAI;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.MiniMax;

/// <summary>Represents MiniMax (https://www.minimax.io), as the original Ally configured it: a key and a group id.</summary>
public sealed class MiniMaxPlugin : IProviderPlugin
{
    private static readonly Uri DefaultBaseUrl = new("https://api.minimax.io/v1");

    /// <inheritdoc />
    public string Name => "minimax";

    /// <inheritdoc />
    public string DisplayName => "MiniMax";

    /// <inheritdoc />
    public IReadOnlyList<string> RequiredEnvVars { get; } = ["MINIMAX_API_KEY", "MINIMAX_GROUP_ID"];

    /// <inheritdoc />
    public string? DefaultModel => "MiniMax-M2";

    /// <inheritdoc />
    public IReadOnlyList<string> KnownModels { get; } = ["MiniMax-M2", "MiniMax-M2.1", "MiniMax-M2.5", "MiniMax-M3"];

    /// <inheritdoc />
    /// <remarks>Prices from MiniMax's public price list as published in LiteLLM's table (2026-07-24).</remarks>
    public IReadOnlyList<ModelPrice> Prices { get; } =
    [
        new("MiniMax-M2") { InputPerMillion = 0.30m, OutputPerMillion = 1.20m, CachedInputPerMillion = 0.03m, ContextWindow = 200_000, MaxOutputTokens = 8_192 },
        new("MiniMax-M2.1") { InputPerMillion = 0.30m, OutputPerMillion = 1.20m, CachedInputPerMillion = 0.03m, ContextWindow = 1_000_000, MaxOutputTokens = 8_192 },
        new("MiniMax-M2.5") { InputPerMillion = 0.30m, OutputPerMillion = 1.20m, CachedInputPerMillion = 0.03m, ContextWindow = 1_000_000, MaxOutputTokens = 8_192 },
        new("MiniMax-M3") { InputPerMillion = 0.30m, OutputPerMillion = 1.20m, CachedInputPerMillion = 0.06m, ContextWindow = 1_000_000, MaxOutputTokens = 128_000 },
    ];

    /// <inheritdoc />
    public ProviderValidation ValidateConfig(ProviderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (string.IsNullOrEmpty(settings.ApiKey))
        {
            return ProviderValidation.Fail("MiniMax needs MINIMAX_API_KEY: put it in .env.");
        }

        if (GroupId(settings) is not { } groupId)
        {
            return ProviderValidation.Fail("MiniMax needs MINIMAX_GROUP_ID (your account's group id, shown in the MiniMax console): put it in .env.");
        }

        if (!groupId.All(char.IsAsciiDigit))
        {
            return ProviderValidation.Fail("MINIMAX_GROUP_ID must be the numeric group id from the MiniMax console.");
        }

        return settings.BaseUrl is null || settings.BaseUrl.Scheme is "https" or "http"
            ? ProviderValidation.Success
            : ProviderValidation.Fail("providers.minimax.base_url must be an http:// or https:// URL.");
    }

    /// <inheritdoc />
    public IChatClient CreateClient(ProviderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);

        // MiniMax identifies the account by GroupId on the query string of every call.
        var baseUrl = new UriBuilder(settings.BaseUrl ?? DefaultBaseUrl) { Query = $"GroupId={Uri.EscapeDataString(GroupId(settings) ?? string.Empty)}" }.Uri;
        return new OpenAIChatClient(settings with { BaseUrl = baseUrl, Model = settings.Model ?? DefaultModel }, azure: false);
    }

    private static string? GroupId(ProviderSettings settings) => settings.GetValue("MINIMAX_GROUP_ID") ?? settings.GetValue("group_id");
}
