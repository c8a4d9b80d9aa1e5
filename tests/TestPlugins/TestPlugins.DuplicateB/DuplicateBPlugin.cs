using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.TestPlugins;

public sealed class DuplicateBPlugin : IProviderPlugin
{
    public string Name => "dupe";

    public IReadOnlyList<string> RequiredEnvVars => [];

    public string? DefaultModel => "dupe-B";

    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => new EchoChatClient("dupe-B");
}
