using Ally.Abstractions;

namespace Ally.TestPlugins;

public sealed class FuturePlugin : IProviderPlugin
{
    public string Name => "future";

    public Uri Endpoint => new("https://example.invalid");
}
