using Ally.Abstractions;
using Ally.Host.Agent;
using Ally.Host.Providers;

namespace Ally.Host.Tests.Fakes;

/// <summary>A probe that fails with the queued exceptions first, then succeeds, recording the settings it saw.</summary>
internal sealed class TestProviderProbe(params Exception[] failures) : IProviderProbe
{
    private readonly Queue<Exception> _failures = new(failures);

    public List<ProviderSettings> Probed { get; } = [];

    public Task<int?> ProbeAsync(ProviderEntry entry, ProviderSettings settings, CancellationToken cancellationToken = default)
    {
        Probed.Add(settings);
        return _failures.TryDequeue(out var failure) ? Task.FromException<int?>(failure) : Task.FromResult<int?>(3);
    }
}
