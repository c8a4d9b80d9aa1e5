using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Bench.Plugin;

/// <summary>A plugin whose provider is named after its file, so that one build can be dropped in 20 times.</summary>
public sealed class BenchPlugin : IProviderPlugin
{
    /// <inheritdoc />
    public string Name { get; } = Path.GetFileNameWithoutExtension(typeof(BenchPlugin).Assembly.Location).ToLowerInvariant();

    /// <inheritdoc />
    public IReadOnlyList<string> RequiredEnvVars => [];

    /// <inheritdoc />
    public string? DefaultModel => "bench-1";

    /// <inheritdoc />
    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    /// <inheritdoc />
    public IChatClient CreateClient(ProviderSettings settings) => throw new NotSupportedException("The benchmark plugin only measures loading.");
}
