using System.Net;

namespace Ally.Host.Providers.Http;

/// <summary>The connection pools of Ally's HTTP calls, so that repeated calls reuse connections.</summary>
/// <remarks>
/// Timeouts are not set here: the client's own per-call timeout and the router's timeouts cancel calls, since a
/// streamed answer may legitimately run longer than any fixed HttpClient.Timeout.
/// </remarks>
internal static class SharedHttp
{
    /// <summary>Gets the pool every built-in provider shares (and plugins are offered), which does not follow redirects.</summary>
    /// <remarks>
    /// Following a redirect drops the API key (and turns a POST into a GET for 301 and 302), so the provider would
    /// answer 401 or 405 and the user would look for the fault in the wrong place. A 3xx becomes an error that names
    /// the new address instead (<see cref="HttpErrorClassifier.Redirect"/>).
    /// </remarks>
    public static HttpClient Client { get; } = Create(followRedirects: false, maxConnectionsPerServer: 256);

    /// <summary>Gets the pool of the agent's web tools, which follows redirects: pages move, and no key is sent.</summary>
    public static HttpClient Web { get; } = Create(followRedirects: true, maxConnectionsPerServer: int.MaxValue);

    private static HttpClient Create(bool followRedirects, int maxConnectionsPerServer) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = followRedirects,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        MaxConnectionsPerServer = maxConnectionsPerServer,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
