using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Ally.Bench.Gateway;

/// <summary>
/// A closed-loop load generator: <c>concurrency</c> workers each send a request, wait for the whole answer, and
/// send the next, for a fixed time; every latency is kept and sorted for percentiles.
/// </summary>
internal sealed class LoadGenerator : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public void Dispose() => _http.Dispose();

    /// <summary>Runs whole requests and measures until the full answer is read.</summary>
    public Task<LoadResult> RunAsync(string target, Uri url, byte[] body, string? bearer, int concurrency, TimeSpan duration) =>
        RunCoreAsync(target, url, body, bearer, concurrency, duration, firstPiece: false);

    /// <summary>Runs streamed requests and measures until the first content piece arrives (time to first token).</summary>
    public Task<LoadResult> RunFirstTokenAsync(string target, Uri url, byte[] body, string? bearer, int concurrency, TimeSpan duration) =>
        RunCoreAsync(target, url, body, bearer, concurrency, duration, firstPiece: true);

    private async Task<LoadResult> RunCoreAsync(string target, Uri url, byte[] body, string? bearer, int concurrency, TimeSpan duration, bool firstPiece)
    {
        var latencies = new List<double>[concurrency];
        var errors = 0;
        string? firstError = null;
        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(i => Task.Run(async () =>
        {
            var mine = latencies[i] = new List<double>(4096);
            var buffer = new byte[16 * 1024];
            while (Stopwatch.GetTimestamp() < end)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = Json;
                    if (bearer is not null)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                    }

                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref errors);
                        firstError ??= $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                        continue;
                    }

                    await using var stream = await response.Content.ReadAsStreamAsync();
                    var firstSeenAt = 0L;
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0)
                    {
                        if (firstPiece && firstSeenAt == 0 && buffer.AsSpan(0, read).IndexOf("\"content\""u8) >= 0)
                        {
                            firstSeenAt = Stopwatch.GetTimestamp();
                        }
                    }

                    var stop = firstPiece ? firstSeenAt : Stopwatch.GetTimestamp();
                    if (stop == 0)
                    {
                        Interlocked.Increment(ref errors);
                        continue;
                    }

                    mine.Add(Stopwatch.GetElapsedTime(start, stop).TotalMilliseconds);
                }
                catch (HttpRequestException exception)
                {
                    Interlocked.Increment(ref errors);
                    firstError ??= exception.Message;
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LoadResult(target, concurrency, all, seconds, all.Length == 0 ? 0 : (double)allocated / all.Length, errors) { FirstError = firstError };
    }
}
