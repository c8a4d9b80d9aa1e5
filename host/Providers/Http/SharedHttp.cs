using System.Net;

namespace Ally.Host.Providers.Http;

/// <summary>The one connection pool every built-in provider shares, so that repeated calls reuse connections.</summary>
/// <remarks>
/// Timeouts are not set here: the client's own per-call timeout and the router's timeouts cancel calls, since a
/// streamed answer may legitimately run longer than any fixed HttpClient.Timeout.
/// </remarks>
internal static class SharedHttp
{
    public static HttpClient Client { get; } = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        AutomaticDecompression = DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        MaxConnectionsPerServer = 256,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
