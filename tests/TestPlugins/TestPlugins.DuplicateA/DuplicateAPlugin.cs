using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.TestPlugins;

public sealed class DuplicateAPlugin : IProviderPlugin
{
    public string Name => "dupe";

    public IReadOnlyList<string> RequiredEnvVars => [];

    public string? DefaultModel => "dupe-A";

    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => new EchoChatClient("dupe-A");
}
