namespace Ally.Host.Gateway;

/// <summary>What the gateway changes while it runs: the default provider, the streams in flight, its own ports.</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class GatewayState
{
    private readonly int _maxStreams;
    private volatile string? _defaultProvider;
    private volatile int[] _ownPorts = [];
    private int _streams;

    public GatewayState(string? defaultProvider, int maxConcurrentStreams)
    {
        _defaultProvider = defaultProvider;
        _maxStreams = maxConcurrentStreams;
    }

    /// <summary>Gets or sets the provider of bare model names (<c>POST /api/providers/{name}/default</c>).</summary>
    public string? DefaultProvider
    {
        get => _defaultProvider;
        set => _defaultProvider = value;
    }

    public int ActiveStreams => Volatile.Read(ref _streams);

    /// <summary>Takes a stream slot; false when the cap is reached. Every true must be paired with <see cref="EndStream"/>.</summary>
    public bool TryBeginStream()
    {
        if (Interlocked.Increment(ref _streams) <= _maxStreams)
        {
            return true;
        }

        Interlocked.Decrement(ref _streams);
        return false;
    }

    public void EndStream() => Interlocked.Decrement(ref _streams);

    /// <summary>Sets the ports the gateway listens on, once Kestrel has bound them.</summary>
    public void SetOwnPorts(IEnumerable<int> ports) => _ownPorts = [.. ports];

    /// <summary>
    /// Tells whether a provider's base URL is this gateway (llama.cpp and LocalAI default to localhost:8080, which is
    /// also the gateway's default), so that listing models never calls the gateway from inside itself.
    /// </summary>
    public bool IsSelf(Uri? baseUrl) => baseUrl is { IsLoopback: true } && Array.IndexOf(_ownPorts, baseUrl.Port) >= 0;
}
