using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers;

/// <summary>A provider served by one of the built-in protocols: every built-in, and every config entry with a <c>type</c>.</summary>
internal sealed class ProtocolProviderPlugin : IProviderPlugin
{
    public ProtocolProviderPlugin(ProviderDefinition definition)
    {
        Definition = definition;
        RequiredEnvVars = definition.KeyRequired && definition.KeyVariables.Count > 0 ? [definition.KeyVariables[0]] : [];
    }

    public ProviderDefinition Definition { get; }

    public string Name => Definition.Name;

    public string DisplayName => Definition.DisplayName;

    public IReadOnlyList<string> RequiredEnvVars { get; }

    public string? DefaultModel => Definition.DefaultModel;

    public IReadOnlyList<string> KnownModels => Definition.KnownModels;

    public ProviderValidation ValidateConfig(ProviderSettings settings)
    {
        if (settings.BaseUrl is null)
        {
            return ProviderValidation.Fail(Definition.BaseUrlVariable is { } variable
                ? $"{Name} needs its endpoint: set {variable} in .env or providers.{Name}.base_url in config.json."
                : $"{Name} needs providers.{Name}.base_url in config.json.");
        }

        if (Definition.Protocol == ProviderProtocol.AzureOpenAI && settings.BaseUrl.Scheme != Uri.UriSchemeHttps && !settings.BaseUrl.IsLoopback)
        {
            return ProviderValidation.Fail($"{Name}: the Azure endpoint must use https://.");
        }

        return ProviderValidation.Success;
    }

    public IChatClient CreateClient(ProviderSettings settings) => ProtocolClientFactory.Create(Definition.Protocol, settings);
}
