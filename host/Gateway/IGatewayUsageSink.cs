namespace Ally.Host.Gateway;

/// <summary>Receives every call the gateway served, including failed and cancelled ones.</summary>
/// <remarks>Called on the request path: implementations must be fast, thread-safe and must not throw.</remarks>
internal interface IGatewayUsageSink
{
    void Record(GatewayCallRecord record);
}
