using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.TestPlugins;

public sealed class EchoPlugin : IProviderPlugin
{
    public string Name => "echo";

    public IReadOnlyList<string> RequiredEnvVars => ["ECHO_API_KEY"];

    public string? DefaultModel => "echo-1";

    public ProviderValidation ValidateConfig(ProviderSettings settings) =>
        settings.GetValue("mode") == "broken" ? ProviderValidation.Fail("providers.echo.mode must not be 'broken'.") : ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => new EchoChatClient($"echo[{settings.Model}]");
}
