using System.Net;
using Ally.Host.Configuration;

namespace Ally.Host.Gateway;

/// <summary>
/// The <c>gateway</c> section of config.json, the gateway's environment variables and <c>--urls</c>, validated once
/// at start-up.
/// </summary>
internal sealed record GatewayOptions
{
    public const string DefaultUrl = "http://127.0.0.1:8080";
    public const string KeysVariable = "ALLY_GATEWAY_KEYS";
    public const string AdminKeyVariable = "ALLY_GATEWAY_ADMIN_KEY";

    /// <summary>The runtime's switch for running socket completions inline; <c>gateway.inline_io</c> sets it for <c>ally serve</c>.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public const int MinimumKeyLength = 16;

    private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal)
    {
        "keys", "admin_key", "max_request_bytes", "rpm_per_key", "max_concurrent_streams", "inline_io", "default_provider", "models_timeout_seconds", "urls",
    };

    /// <summary>Gets the addresses to listen on; default <c>http://127.0.0.1:8080</c>.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>Gets the client keys accepted as bearer tokens on <c>/v1</c>; empty leaves <c>/v1</c> open (loopback only).</summary>
    public IReadOnlyList<string> ClientKeys { get; init; } = [];

    /// <summary>Gets the key for <c>/api</c>; <see langword="null"/> serves <c>/api</c> to loopback clients only.</summary>
    public string? AdminKey { get; init; }

    /// <summary>Gets the largest request body accepted, in bytes (default 4 MiB, 1 KiB to 1 GiB); larger gets 413.</summary>
    public long MaxRequestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Gets the requests per minute allowed per client key on <c>/v1</c> (1 to 1,000,000); <see langword="null"/>: no limit.</summary>
    public int? RpmPerKey { get; init; }

    /// <summary>Gets the number of streamed answers served at once (default 64, 1 to 100,000); more get 429.</summary>
    public int MaxConcurrentStreams { get; init; } = 64;

    /// <summary>
    /// Gets a value indicating whether requests run on the socket threads that receive them (Kestrel's
    /// <c>UnsafePreferInlineScheduling</c> and the runtime's inline socket completions) instead of being handed to the
    /// thread pool at every read: fewer thread wake-ups per request, which is most of a small machine's added latency
    /// (docs/gateway-benchmark.md), but a provider plugin that blocks a thread then stalls other requests too.
    /// <c>gateway.inline_io</c>, or the runtime's own <see cref="InlineCompletionsVariable"/>=1.
    /// </summary>
    public bool InlineIo { get; init; }

    /// <summary>Gets the provider of bare model names; default the top-level <c>provider</c> of config.json.</summary>
    public string? DefaultProvider { get; init; }

    /// <summary>Gets how long a model listing or health check may take per provider (default 3 s, 0.1 to 60 s).</summary>
    public TimeSpan ModelsTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets config.json's <c>aliases</c>: model names that stand for a <c>provider/model</c>.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets a value indicating whether every address is a loopback one.</summary>
    public bool LoopbackOnly => Urls.All(IsLoopbackUrl);

    /// <summary>
    /// Reads the options from config.json and the environment; <paramref name="urls"/> (from <c>--urls</c>, separated
    /// by <c>;</c> or <c>,</c>) replaces <c>gateway.urls</c>. Throws a <see cref="ConfigException"/> for any mistake,
    /// including listening beyond loopback without client keys.
    /// </summary>
    public static GatewayOptions Read(AllyConfig config, AllyEnvironment environment, string? urls = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(environment);
        var root = new ConfigReader(config.DisplayPath, config.Root);
        var section = root.GetObject("gateway");
        if (section is not null)
        {
            foreach (var key in section.Keys.Where(k => !KnownKeys.Contains(k)))
            {
                throw section.Error(key, $"is not a gateway setting; allowed: {string.Join(", ", KnownKeys.Order(StringComparer.Ordinal))}");
            }
        }

        var keys = new List<string>();
        if (section?.GetStringList("keys") is { } configured)
        {
            keys.AddRange(configured.Select((k, i) => CheckKey(k, $"{config.DisplayPath}: 'gateway.keys[{i}]'")));
        }

        if (environment.Get(KeysVariable) is { } fromEnv)
        {
            keys.AddRange(fromEnv.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(k => CheckKey(k, $"an entry of {KeysVariable}")));
        }

        var adminKey = environment.Get(AdminKeyVariable) is { } adminFromEnv
            ? CheckKey(adminFromEnv.Trim(), AdminKeyVariable)
            : section?.GetString("admin_key") is { } adminFromConfig ? CheckKey(adminFromConfig, $"{config.DisplayPath}: 'gateway.admin_key'") : null;

        var urlList = urls is { Length: > 0 }
            ? ParseUrls(urls, "--urls")
            : section?.GetStringList("urls") is { Count: > 0 } configuredUrls ? ParseUrls(string.Join(';', configuredUrls), $"{config.DisplayPath}: 'gateway.urls'") : [DefaultUrl];

        var options = new GatewayOptions
        {
            Urls = urlList,
            ClientKeys = keys.Distinct(StringComparer.Ordinal).ToList(),
            AdminKey = adminKey,
            MaxRequestBytes = section?.GetInt("max_request_bytes", 1024, 1024 * 1024 * 1024) ?? 4 * 1024 * 1024,
            RpmPerKey = section?.GetInt("rpm_per_key", 1, 1_000_000),
            MaxConcurrentStreams = section?.GetInt("max_concurrent_streams", 1, 100_000) ?? 64,
            InlineIo = section?.GetBool("inline_io") ?? environment.Get(InlineCompletionsVariable) == "1",
            DefaultProvider = ConfigLoader.NormalizeName(section?.GetString("default_provider")) ?? config.Provider,
            ModelsTimeout = TimeSpan.FromSeconds(section?.GetDouble("models_timeout_seconds", 0.1, 60) ?? 3),
            Aliases = ReadAliases(root),
        };

        if (!options.LoopbackOnly && options.ClientKeys.Count == 0)
        {
            var exposed = options.Urls.First(u => !IsLoopbackUrl(u));
            throw new ConfigException(
                $"refusing to listen on {exposed} without client keys: anyone who can reach it could spend your provider credits. Set 'gateway.keys' in {config.DisplayPath} or {KeysVariable}, or listen on 127.0.0.1.");
        }

        return options;
    }

    /// <summary>Tells whether a listening URL only accepts connections from this machine.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://any-host", StringComparison.Ordinal).Replace("://+", "://any-host", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }

    private static List<string> ParseUrls(string text, string where)
    {
        var result = new List<string>();
        foreach (var url in text.Split([';', ','], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var probe = url.Replace("://*", "://any-host", StringComparison.Ordinal).Replace("://+", "://any-host", StringComparison.Ordinal);
            if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            {
                throw new ConfigException($"{where}: '{url}' is not a listening address such as http://127.0.0.1:8080 (https is not served: put a TLS proxy in front).");
            }

            result.Add(url);
        }

        return result.Count > 0 ? result : throw new ConfigException($"{where}: no address given; for example http://127.0.0.1:8080.");
    }

    private static string CheckKey(string key, string where) =>
        key.Length >= MinimumKeyLength && !key.Any(char.IsWhiteSpace)
            ? key
            : throw new ConfigException($"{where} must be at least {MinimumKeyLength} characters without spaces (the key itself is not shown).");

    private static Dictionary<string, string> ReadAliases(ConfigReader root)
    {
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.GetObject("aliases") is not { } section)
        {
            return aliases;
        }

        foreach (var name in section.Keys)
        {
            var target = section.GetString(name);
            if (string.IsNullOrWhiteSpace(target) || !target.Contains('/', StringComparison.Ordinal))
            {
                throw section.Error(name, "must name a provider and a model, such as \"groq/llama-3.3-70b-versatile\"");
            }

            aliases[name] = target;
        }

        return aliases;
    }
}
