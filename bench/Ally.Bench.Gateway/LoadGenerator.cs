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

    private int _withoutHold;

    /// <summary>Gets how many answers so far carried no <see cref="HoldMarker"/> (their net latency is the whole latency).</summary>
    public int AnswersWithoutHold => _withoutHold;

    public void Dispose() => _http.Dispose();

    /// <summary>Runs whole requests and measures until the full answer is read.</summary>
    public Task<LoadResult> RunAsync(string target, Uri url, byte[] body, string? bearer, int concurrency, TimeSpan duration) =>
        RunCoreAsync(target, url, body, bearer, concurrency, duration, firstPiece: false);

    /// <summary>Runs streamed requests and measures until the first content piece arrives (time to first token).</summary>
    public Task<LoadResult> RunFirstTokenAsync(string target, Uri url, byte[] body, string? bearer, int concurrency, TimeSpan duration) =>
        RunCoreAsync(target, url, body, bearer, concurrency, duration, firstPiece: true);

    /// <summary>
    /// Runs direct and gateway requests alternately in each worker (direct, gateway, direct, ...), so that both series
    /// see the same disturbances; each gateway latency minus the direct one just before it in the same worker is a pair.
    /// </summary>
    public async Task<InterleavedResult> RunInterleavedAsync(Uri directUrl, byte[] directBody, Uri gatewayUrl, byte[] gatewayBody, string bearer, int concurrency, TimeSpan duration, bool firstPiece)
    {
        var direct = new List<double>[concurrency];
        var gateway = new List<double>[concurrency];
        var pairs = new List<double>[concurrency];
        var netDirect = new List<double>[concurrency];
        var netGateway = new List<double>[concurrency];
        var netBoth = new List<(double Direct, double Gateway)>[concurrency];
        var errors = new Errors();
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(i => Task.Run(async () =>
        {
            var myDirect = direct[i] = new List<double>(4096);
            var myGateway = gateway[i] = new List<double>(4096);
            var myPairs = pairs[i] = new List<double>(4096);
            var myNetDirect = netDirect[i] = new List<double>(4096);
            var myNetGateway = netGateway[i] = new List<double>(4096);
            var myNetBoth = netBoth[i] = new List<(double, double)>(4096);
            var buffer = new byte[16 * 1024];
            while (Stopwatch.GetTimestamp() < end)
            {
                var d = await OnceAsync(directUrl, directBody, null, firstPiece, buffer, errors);
                if (d is { } directSample)
                {
                    myDirect.Add(directSample.Ms);
                    myNetDirect.Add(directSample.NetMs);
                }

                var g = await OnceAsync(gatewayUrl, gatewayBody, bearer, firstPiece, buffer, errors);
                if (g is { } gatewaySample)
                {
                    myGateway.Add(gatewaySample.Ms);
                    myNetGateway.Add(gatewaySample.NetMs);
                    if (d is { } before)
                    {
                        myPairs.Add(gatewaySample.Ms - before.Ms);
                        myNetBoth.Add((before.NetMs, gatewaySample.NetMs));
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new InterleavedResult(
            new LoadResult("direct", concurrency, Sorted(direct), seconds, 0, 0),
            new LoadResult("gateway", concurrency, Sorted(gateway), seconds, 0, errors.Count) { FirstError = errors.First },
            new LoadResult("pairs", concurrency, Sorted(pairs), seconds, 0, 0),
            new LoadResult("direct, net", concurrency, Sorted(netDirect), seconds, 0, 0),
            new LoadResult("gateway, net", concurrency, Sorted(netGateway), seconds, 0, 0),
            new LoadResult("pairs, net", concurrency, Sorted([.. netBoth.Select(l => l.ConvertAll(p => p.Gateway - p.Direct))]), seconds, 0, 0))
        {
            NetPairsInOrder = [.. netBoth.SelectMany(l => l)],
        };

        static double[] Sorted(List<double>[] lists)
        {
            var all = lists.SelectMany(l => l).ToArray();
            Array.Sort(all);
            return all;
        }
    }

    private async Task<LoadResult> RunCoreAsync(string target, Uri url, byte[] body, string? bearer, int concurrency, TimeSpan duration, bool firstPiece)
    {
        var latencies = new List<double>[concurrency];
        var errors = new Errors();
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
                if (await OnceAsync(url, body, bearer, firstPiece, buffer, errors) is { } sample)
                {
                    mine.Add(sample.Ms);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LoadResult(target, concurrency, all, seconds, all.Length == 0 ? 0 : (double)allocated / all.Length, errors.Count) { FirstError = errors.First };
    }

    /// <summary>
    /// Sends one request and returns its latency in ms (to the whole answer, or to the first content piece) and the
    /// upstream's own time for it (its <see cref="HoldMarker"/>), or null on an error.
    /// </summary>
    private async Task<Sample?> OnceAsync(Uri url, byte[] body, string? bearer, bool firstPiece, byte[] buffer, Errors errors)
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
                errors.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return null;
            }

            await using var stream = await response.Content.ReadAsStreamAsync();
            var firstSeenAt = 0L;
            double? hold = null;
            var filled = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(filled))) > 0)
            {
                if (firstPiece && firstSeenAt == 0 && buffer.AsSpan(0, filled + read).IndexOf("\"content\""u8) >= 0)
                {
                    firstSeenAt = Stopwatch.GetTimestamp();
                }

                // The marker may straddle two reads: keep what was read until it is found, then just drain.
                hold ??= HoldMarker.Find(buffer.AsSpan(0, filled + read));
                filled = hold is null && filled + read < buffer.Length - 1024 ? filled + read : 0;
            }

            var stop = firstPiece ? firstSeenAt : Stopwatch.GetTimestamp();
            if (stop == 0)
            {
                errors.Add($"{url}: no content piece in the stream");
                return null;
            }

            var ms = Stopwatch.GetElapsedTime(start, stop).TotalMilliseconds;
            if (hold is null)
            {
                Interlocked.Increment(ref _withoutHold);
            }

            return new Sample(ms, ms - (hold ?? 0));
        }
        catch (HttpRequestException exception)
        {
            errors.Add(exception.Message);
            return null;
        }
    }

    private sealed class Errors
    {
        private int _count;

        public int Count => _count;

        public string? First { get; private set; }

        public void Add(string error)
        {
            Interlocked.Increment(ref _count);
            First ??= error;
        }
    }
}

/// <summary>One request's latency, and the same less the upstream's own time for it (its hold), in ms.</summary>
internal readonly record struct Sample(double Ms, double NetMs);

/// <summary>
/// One interleaved run: the direct and gateway latencies, and each gateway latency minus the direct one just before it
/// in the same worker; then the same three net of the upstream's own time for each request.
/// </summary>
internal sealed record InterleavedResult(LoadResult Direct, LoadResult Gateway, LoadResult Pairs, LoadResult NetDirect, LoadResult NetGateway, LoadResult NetPairs)
{
    /// <summary>Gets every pair's two net latencies (direct, then gateway), for resampling.</summary>
    public IReadOnlyList<(double Direct, double Gateway)> NetPairsInOrder { get; init; } = [];

    /// <summary>
    /// A 95% interval for the net added p99 (gateway p99 minus direct p99), by resampling the pairs with replacement
    /// (a percentile bootstrap, 1,000 resamples, fixed seed): how far the run's own figure could be from the true one.
    /// </summary>
    public (double Low, double High) NetAddedP99Interval()
    {
        var pairs = NetPairsInOrder;
        if (pairs.Count < 2)
        {
            return (double.NaN, double.NaN);
        }

        var random = new Random(12345);
        var direct = new double[pairs.Count];
        var gateway = new double[pairs.Count];
        var estimates = new double[1000];
        for (var r = 0; r < estimates.Length; r++)
        {
            for (var i = 0; i < pairs.Count; i++)
            {
                var (d, g) = pairs[random.Next(pairs.Count)];
                direct[i] = d;
                gateway[i] = g;
            }

            Array.Sort(direct);
            Array.Sort(gateway);
            estimates[r] = P99(gateway) - P99(direct);
        }

        Array.Sort(estimates);
        return (estimates[24], estimates[974]);

        static double P99(double[] sorted) => sorted[Math.Clamp((int)Math.Ceiling(0.99 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
