namespace Ally.Bench.Gateway;

/// <summary>Latencies of one run, in milliseconds, with throughput and the bytes allocated per request in the process.</summary>
internal sealed record LoadResult(string Target, int Concurrency, double[] LatenciesMs, double Seconds, double AllocatedBytesPerRequest, int Errors)
{
    public string? FirstError { get; init; }

    public double RequestsPerSecond => LatenciesMs.Length / Seconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var index = (int)Math.Ceiling(p / 100 * LatenciesMs.Length) - 1;
        return LatenciesMs[Math.Clamp(index, 0, LatenciesMs.Length - 1)];
    }
}
