using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.TestPlugins;

public sealed class NeedsDependencyPlugin : IProviderPlugin
{
    private readonly Greeting _greeting = new();

    public string Name => "needsdep";

    public IReadOnlyList<string> RequiredEnvVars => [];

    public string? DefaultModel => _greeting.Text;

    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => new EchoChatClient(_greeting.Text);
}
