using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.TestPlugins;

public sealed class ThrowingPlugin : IProviderPlugin
{
    public ThrowingPlugin() => throw new InvalidOperationException("the throwing plugin always fails to start");

    public string Name => "throwing";

    public IReadOnlyList<string> RequiredEnvVars => [];

    public string? DefaultModel => null;

    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => throw new NotSupportedException();
}
