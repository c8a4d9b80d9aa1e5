using Ally.Host.Gateway;

namespace Ally.Bench.Gateway;

/// <summary>Drops every record (<c>--no-usage</c>), to see what recording costs.</summary>
internal sealed class NullUsageSink : IGatewayUsageSink
{
    public void Record(GatewayCallRecord record)
    {
    }
}
