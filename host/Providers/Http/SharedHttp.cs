using System.Net;

namespace Ally.Host.Providers.Http;

/// <summary>The connection pools of Ally's HTTP calls: one every built-in provider shares, so that repeated calls reuse connections, and one for the agent's web tools.</summary>
/// <remarks>
/// <para>Timeouts are not set here: the client's own per-call timeout and the router's timeouts cancel calls, since a
/// streamed answer may legitimately run longer than any fixed HttpClient.Timeout.</para>
/// <para>Redirects are not followed: following one drops the API key (and turns a POST into a GET for 301 and 302),
/// so the provider would answer 401 or 405 and the user would look for the fault in the wrong place. A 3xx becomes
/// an error that names the new address instead (<see cref="HttpErrorClassifier.Redirect"/>).</para>
/// </remarks>
internal static class SharedHttp
{
    public static HttpClient Client { get; } = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        MaxConnectionsPerServer = 256,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The connection pool of the agent's web tools, which follows redirects: pages move, and no key is sent.</summary>
    public static HttpClient Web { get; } = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        AutomaticDecompression = DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
