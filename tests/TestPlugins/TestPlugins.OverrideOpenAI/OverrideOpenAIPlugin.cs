using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.TestPlugins;

public sealed class OverrideOpenAIPlugin : IProviderPlugin
{
    public string Name => "openai";

    public IReadOnlyList<string> RequiredEnvVars => [];

    public string? DefaultModel => "override-model";

    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => new EchoChatClient("override");
}
