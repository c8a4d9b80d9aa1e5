using System.Globalization;
using System.Text.Json;
using Ally.Host.Configuration;
using Ally.Host.Pricing;
using Ally.Host.Usage;

namespace Ally.Host.Routing;

/// <summary>What config.json says about routing: <c>fallbacks</c>, <c>router</c>, <c>budget</c>, <c>pricing</c> and the router's keys in <c>providers.*</c>.</summary>
internal sealed record RoutingConfig
{
    private const double MaxSeconds = 86_400;

    /// <summary>Gets the top-level fallback chain (<c>"fallbacks": ["groq", "openai/gpt-4o-mini"]</c>).</summary>
    public IReadOnlyList<RouteCandidate> Fallbacks { get; init; } = [];

    /// <summary>Gets fallback chains by role (<c>"fallbacks": {"general": [...], "default": [...]}</c>); the <c>default</c> chain serves roles without one.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<RouteCandidate>> RoleFallbacks { get; init; } =
        new Dictionary<string, IReadOnlyList<RouteCandidate>>(StringComparer.OrdinalIgnoreCase);

    public RouterOptions Router { get; init; } = new();

    public BudgetOptions Budget { get; init; } = new();

    /// <summary>Gets config.json's price overrides by <c>provider/model</c>, for <see cref="PriceTable.Create"/>.</summary>
    public IReadOnlyDictionary<string, PriceEntry> Pricing { get; init; } = new Dictionary<string, PriceEntry>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets per-provider router settings by provider name.</summary>
    public IReadOnlyDictionary<string, ProviderRouteOptions> Providers { get; init; } =
        new Dictionary<string, ProviderRouteOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the ordered candidates of a call: the selected provider first, then the role's fallbacks, without repeats.</summary>
    public IReadOnlyList<RouteCandidate> CandidatesFor(string? role, RouteCandidate primary)
    {
        ArgumentNullException.ThrowIfNull(primary);
        IReadOnlyList<RouteCandidate> chain = Fallbacks;
        if (RoleFallbacks.Count > 0)
        {
            chain = role is not null && RoleFallbacks.TryGetValue(role, out var forRole) ? forRole
                : RoleFallbacks.TryGetValue("default", out var fallback) ? fallback
                : [];
        }

        var list = new List<RouteCandidate>(chain.Count + 1) { primary };
        foreach (var candidate in chain)
        {
            if (!list.Any(c => Same(c, candidate)))
            {
                list.Add(candidate);
            }
        }

        return list;
    }

    public ProviderRouteOptions ForProvider(string provider) =>
        Providers.TryGetValue(provider, out var options) ? options : new ProviderRouteOptions();

    /// <summary>Returns this configuration with every provider named as the registry names it, so that <c>gemini</c> and <c>google</c> are one provider.</summary>
    /// <remarks>When both an alias and its provider have <c>providers.*</c> settings or a weight, the provider's own entry wins.</remarks>
    public RoutingConfig WithCanonicalNames(Func<string, string> canonicalName)
    {
        ArgumentNullException.ThrowIfNull(canonicalName);
        IReadOnlyList<RouteCandidate> Chain(IReadOnlyList<RouteCandidate> chain) =>
            [.. chain.Select(c => c with { Provider = canonicalName(c.Provider) })];

        Dictionary<string, T> Keyed<T>(IReadOnlyDictionary<string, T> byProvider)
        {
            var keyed = new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);

            // Aliases first, so that an entry under the provider's own name overwrites them.
            foreach (var (name, value) in byProvider.OrderBy(e => string.Equals(canonicalName(e.Key), e.Key, StringComparison.OrdinalIgnoreCase)))
            {
                keyed[canonicalName(name)] = value;
            }

            return keyed;
        }

        return this with
        {
            Fallbacks = Chain(Fallbacks),
            RoleFallbacks = RoleFallbacks.ToDictionary(e => e.Key, e => Chain(e.Value), StringComparer.OrdinalIgnoreCase),
            Providers = Keyed(Providers),
            Router = Router with { Weights = Keyed(Router.Weights) },
        };
    }

    /// <summary>Reads the routing sections of config.json.</summary>
    /// <param name="configRoot">The root object of config.json.</param>
    /// <param name="configPath">The file's path, for error messages.</param>
    /// <exception cref="ConfigException">When a value is of the wrong type or out of range; the message names the file, the key and what is allowed.</exception>
    public static RoutingConfig Parse(JsonElement configRoot, string configPath)
    {
        var reader = new Reader(configPath);
        if (configRoot.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigException($"{configPath}: the root must be a JSON object.");
        }

        var config = new RoutingConfig();
        if (configRoot.TryGetProperty("fallbacks", out var fallbacks) && fallbacks.ValueKind != JsonValueKind.Null)
        {
            if (fallbacks.ValueKind == JsonValueKind.Array)
            {
                config = config with { Fallbacks = reader.Chain(fallbacks, "fallbacks") };
            }
            else if (fallbacks.ValueKind == JsonValueKind.Object)
            {
                var byRole = new Dictionary<string, IReadOnlyList<RouteCandidate>>(StringComparer.OrdinalIgnoreCase);
                foreach (var role in fallbacks.EnumerateObject())
                {
                    byRole[role.Name] = reader.Chain(role.Value, $"fallbacks.{role.Name}");
                }

                config = config with { RoleFallbacks = byRole };
            }
            else
            {
                throw reader.Error("fallbacks", "an array of \"provider\" or \"provider/model\" entries, or an object of such arrays by role", fallbacks);
            }
        }

        if (reader.Section(configRoot, "router") is { } router)
        {
            config = config with { Router = ParseRouter(reader, router) };
        }

        if (reader.Section(configRoot, "budget") is { } budget)
        {
            config = config with
            {
                Budget = new BudgetOptions
                {
                    SessionUsd = reader.Decimal(budget, "budget.session_usd", "session_usd", 0, 1_000_000),
                    DailyUsd = reader.Decimal(budget, "budget.daily_usd", "daily_usd", 0, 1_000_000),
                },
            };
        }

        if (reader.Section(configRoot, "pricing") is { } pricing)
        {
            var entries = new Dictionary<string, PriceEntry>(StringComparer.OrdinalIgnoreCase);
            foreach (var model in pricing.EnumerateObject())
            {
                var key = $"pricing.{model.Name}";
                if (RouteCandidate.TryParse(model.Name) is not { Model: not null })
                {
                    throw new ConfigException($"{configPath}: {key} must be named \"provider/model\" (got \"{model.Name}\").");
                }

                if (model.Value.ValueKind != JsonValueKind.Object)
                {
                    throw reader.Error(key, "an object with input, output, cached_input, cache_write (US dollars per million tokens), context_window and max_output", model.Value);
                }

                entries[model.Name] = new PriceEntry
                {
                    Input = reader.Decimal(model.Value, $"{key}.input", "input", 0, 100_000),
                    Output = reader.Decimal(model.Value, $"{key}.output", "output", 0, 100_000),
                    CachedInput = reader.Decimal(model.Value, $"{key}.cached_input", "cached_input", 0, 100_000),
                    CacheWrite = reader.Decimal(model.Value, $"{key}.cache_write", "cache_write", 0, 100_000),
                    Reasoning = reader.Decimal(model.Value, $"{key}.reasoning", "reasoning", 0, 100_000),
                    ContextWindow = reader.Integer(model.Value, $"{key}.context_window", "context_window", 1, int.MaxValue),
                    MaxOutput = reader.Integer(model.Value, $"{key}.max_output", "max_output", 1, int.MaxValue),
                };
            }

            config = config with { Pricing = entries };
        }

        if (reader.Section(configRoot, "providers") is { } providers)
        {
            var byProvider = new Dictionary<string, ProviderRouteOptions>(StringComparer.OrdinalIgnoreCase);
            foreach (var provider in providers.EnumerateObject())
            {
                if (provider.Value.ValueKind != JsonValueKind.Object)
                {
                    // The provider registry reports the shape of providers.* entries; only the router's keys are read here.
                    continue;
                }

                var key = $"providers.{provider.Name}";
                byProvider[provider.Name] = new ProviderRouteOptions
                {
                    Timeout = reader.Seconds(provider.Value, $"{key}.timeout_seconds", "timeout_seconds", 0.001, MaxSeconds),
                    FirstTokenTimeout = reader.Seconds(provider.Value, $"{key}.first_token_timeout_seconds", "first_token_timeout_seconds", 0.001, MaxSeconds),
                    IdleTimeout = reader.Seconds(provider.Value, $"{key}.idle_timeout_seconds", "idle_timeout_seconds", 0.001, MaxSeconds),
                    RequestsPerMinute = reader.Integer(provider.Value, $"{key}.rpm", "rpm", 1, 1_000_000),
                    TokensPerMinute = reader.Integer(provider.Value, $"{key}.tpm", "tpm", 1, 1_000_000_000),
                };
            }

            config = config with { Providers = byProvider };
        }

        return config;
    }

    private static RouterOptions ParseRouter(Reader reader, JsonElement router)
    {
        var options = new RouterOptions();
        if (router.TryGetProperty("strategy", out var strategy) && strategy.ValueKind != JsonValueKind.Null)
        {
            options = options with
            {
                Strategy = (strategy.ValueKind == JsonValueKind.String ? strategy.GetString() : null)?.Trim().ToLowerInvariant() switch
                {
                    "priority" => RouterStrategy.Priority,
                    "round-robin" or "round_robin" => RouterStrategy.RoundRobin,
                    "lowest-latency" or "lowest_latency" => RouterStrategy.LowestLatency,
                    "lowest-cost" or "lowest_cost" => RouterStrategy.LowestCost,
                    "weighted" => RouterStrategy.Weighted,
                    _ => throw reader.Error("router.strategy", "one of priority, round-robin, lowest-latency, lowest-cost, weighted", strategy),
                },
            };
        }

        if (router.TryGetProperty("weights", out var weights) && weights.ValueKind != JsonValueKind.Null)
        {
            if (weights.ValueKind != JsonValueKind.Object)
            {
                throw reader.Error("router.weights", "an object of whole numbers from 0 to 1000 by provider", weights);
            }

            var byProvider = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            foreach (var weight in weights.EnumerateObject())
            {
                byProvider[weight.Name] = reader.Integer(weights, $"router.weights.{weight.Name}", weight.Name, 0, 1000) ?? 1;
            }

            options = options with { Weights = byProvider };
        }

        return options with
        {
            MaxRetryWait = reader.Seconds(router, "router.max_retry_wait_seconds", "max_retry_wait_seconds", 0, 3600) ?? options.MaxRetryWait,
            Cooldown = reader.Seconds(router, "router.cooldown_seconds", "cooldown_seconds", 0, MaxSeconds) ?? options.Cooldown,
            MaxRetries = reader.Integer(router, "router.max_retries", "max_retries", 0, 10) ?? options.MaxRetries,
            RetryBaseDelay = reader.Seconds(router, "router.retry_base_delay_seconds", "retry_base_delay_seconds", 0, 60) ?? options.RetryBaseDelay,
            Timeout = reader.Seconds(router, "router.timeout_seconds", "timeout_seconds", 0.001, MaxSeconds) ?? options.Timeout,
            FirstTokenTimeout = reader.Seconds(router, "router.first_token_timeout_seconds", "first_token_timeout_seconds", 0.001, MaxSeconds) ?? options.FirstTokenTimeout,
            IdleTimeout = reader.Seconds(router, "router.idle_timeout_seconds", "idle_timeout_seconds", 0.001, MaxSeconds) ?? options.IdleTimeout,
        };
    }

    private static bool Same(RouteCandidate a, RouteCandidate b) =>
        string.Equals(a.Provider, b.Provider, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(a.Model, b.Model, StringComparison.Ordinal);

    private sealed class Reader(string path)
    {
        public ConfigException Error(string key, string allowed, JsonElement got) =>
            new($"{path}: {key} must be {allowed} (got {Describe(got)}).");

        public JsonElement? Section(JsonElement root, string name)
        {
            if (!root.TryGetProperty(name, out var section) || section.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return section.ValueKind == JsonValueKind.Object ? section : throw Error(name, "an object", section);
        }

        public IReadOnlyList<RouteCandidate> Chain(JsonElement array, string key)
        {
            if (array.ValueKind != JsonValueKind.Array)
            {
                throw Error(key, "an array of \"provider\" or \"provider/model\" entries", array);
            }

            var chain = new List<RouteCandidate>();
            var index = 0;
            foreach (var entry in array.EnumerateArray())
            {
                var candidate = entry.ValueKind == JsonValueKind.String ? RouteCandidate.TryParse(entry.GetString()) : null;
                chain.Add(candidate ?? throw Error($"{key}[{index}]", "a \"provider\" or \"provider/model\" string", entry));
                index++;
            }

            return chain;
        }

        public TimeSpan? Seconds(JsonElement section, string key, string name, double min, double max)
        {
            if (!section.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || seconds < min || seconds > max)
            {
                throw Error(key, $"a number of seconds from {Format(min)} to {Format(max)}", value);
            }

            return TimeSpan.FromSeconds(seconds);
        }

        public int? Integer(JsonElement section, string key, string name, int min, int max)
        {
            if (!section.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
            {
                throw Error(key, $"a whole number from {min} to {max}", value);
            }

            return number;
        }

        public decimal? Decimal(JsonElement section, string key, string name, decimal min, decimal max)
        {
            if (!section.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number) || number < min || number > max)
            {
                throw Error(key, $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}", value);
            }

            return number;
        }

        private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

        private static string Describe(JsonElement value)
        {
            // A long string may be a key pasted in the wrong place: never echo it.
            if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 24 } text)
            {
                return $"a string of {text.Length} characters";
            }

            return value.ValueKind switch
            {
                JsonValueKind.Object => "an object",
                JsonValueKind.Array => "an array",
                _ => value.GetRawText(),
            };
        }
    }
}
