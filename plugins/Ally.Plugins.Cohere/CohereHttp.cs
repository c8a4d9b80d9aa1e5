using System.Net;

namespace Ally.Plugins.Cohere;

/// <summary>The plugin's own connection pool, used when the host offers no <see cref="HttpClient"/>.</summary>
/// <remarks>
/// The host's shared client is not reachable from a plugin. No HttpClient.Timeout: the client bounds each call
/// itself, and a streamed answer may rightly run longer than any fixed timeout.
/// </remarks>
internal static class CohereHttp
{
    public static HttpClient Client { get; } = new(new SocketsHttpHandler
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
