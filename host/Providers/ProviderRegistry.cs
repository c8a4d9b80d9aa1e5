using System.Collections.Concurrent;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Plugins;
using Ally.Host.Providers.Http;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers;

/// <summary>
/// Every installed provider, by name: built-ins, then plugins, then config entries with a <c>type</c>, each later
/// source replacing an earlier one of the same name with a warning. Resolves settings and creates clients.
/// </summary>
/// <remarks>Thread-safe: the gateway may register providers while requests are being served.</remarks>
internal sealed class ProviderRegistry
{
    private readonly ConcurrentDictionary<string, ProviderEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ProviderConfig> _configs;
    private readonly ConcurrentDictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private readonly Lazy<HashSet<string>> _selected;

    public ProviderRegistry(AllyConfig config, AllyEnvironment environment, PluginCatalog plugins)
    {
        Config = config;
        Environment = environment;
        _configs = new(StringComparer.Ordinal);
        _selected = new(SelectedByConfig);

        foreach (var definition in BuiltInProviders.All)
        {
            _entries[definition.Name] = new ProviderEntry(definition.Name, new ProtocolProviderPlugin(definition), ProviderSource.BuiltIn, null);
            foreach (var alias in definition.Aliases)
            {
                _aliases[alias] = definition.Name;
            }
        }

        _warnings.AddRange(plugins.Warnings.Select(w => w.Message));
        foreach (var plugin in plugins.Plugins)
        {
            var overrides = _entries.TryGetValue(plugin.Name, out var existing) && existing.Source == ProviderSource.BuiltIn;
            if (overrides)
            {
                _warnings.Add($"plugin '{plugin.Name}' from {plugin.DisplayPath} overrides the built-in provider '{plugin.Name}'; the plugin is used. Rename the plugin's provider to keep both.");
            }

            _entries[plugin.Name] = new ProviderEntry(plugin.Name, plugin.Plugin, ProviderSource.Plugin, plugin.DisplayPath) { OverridesBuiltIn = overrides };
        }

        AddConfigEntries(config);

        foreach (var entry in config.Providers.Values)
        {
            if (entry.Type is not null)
            {
                AddConfigDefined(entry);
            }
            else if (Find(entry.Name) is null)
            {
                _warnings.Add($"{config.DisplayPath}: 'providers.{entry.Name}' configures a provider that is not installed and has no 'type'; add \"type\" (openai-compatible, anthropic-compatible, gemini, ollama, azure) or install its plugin. Installed: {string.Join(", ", Names)}.");
            }
        }

        foreach (var key in config.UnknownKeys)
        {
            _warnings.Add($"{config.DisplayPath}: unknown key '{key}' is ignored.");
        }
    }

    public AllyConfig Config { get; }

    public AllyEnvironment Environment { get; }

    /// <summary>Gets the start-up warnings: plugin problems, overrides and config entries that do nothing.</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
            {
                return [.. _warnings];
            }
        }
    }

    public IReadOnlyList<ProviderEntry> Entries => [.. _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal)];

    public IReadOnlyList<string> Names => [.. _entries.Keys.Order(StringComparer.Ordinal)];

    public ProviderEntry? Find(string? name)
    {
        var key = ConfigLoader.NormalizeName(name);
        if (key is null)
        {
            return null;
        }

        if (_entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        return _aliases.TryGetValue(key, out var target) && _entries.TryGetValue(target, out entry) ? entry : null;
    }

    /// <summary>Finds a provider or throws a <see cref="ConfigException"/> that lists the installed ones.</summary>
    public ProviderEntry Get(string? name, string? where = null) =>
        Find(name) ?? throw new ConfigException(
            $"{where ?? "provider"} '{name}' is not installed. Installed providers: {string.Join(", ", Names)}. Drop its plugin into {Path.GetRelativePath(System.Environment.CurrentDirectory, Config.PluginsDirectory)} or define it under 'providers' in {Config.DisplayPath}.");

    /// <summary>Adds a provider defined by a configuration entry with a <c>type</c>, at start-up or at run time.</summary>
    public ProviderEntry AddConfigDefined(ProviderConfig entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var protocol = entry.Type switch
        {
            "openai-compatible" => ProviderProtocol.OpenAI,
            "anthropic-compatible" => ProviderProtocol.Anthropic,
            "gemini" => ProviderProtocol.Gemini,
            "ollama" => ProviderProtocol.Ollama,
            "azure" => ProviderProtocol.AzureOpenAI,
            _ => throw new ConfigException($"{Config.DisplayPath}: 'providers.{entry.Name}.type' is '{entry.Type}'; allowed: openai-compatible, anthropic-compatible, gemini, ollama, azure."),
        };

        if (entry.BaseUrl is null && protocol != ProviderProtocol.Ollama)
        {
            throw new ConfigException($"{Config.DisplayPath}: 'providers.{entry.Name}' has a type but no 'base_url'; add the endpoint, for example \"base_url\": \"https://api.example.com/v1\".");
        }

        var definition = new ProviderDefinition
        {
            Name = entry.Name,
            DisplayName = entry.Name,
            Protocol = protocol,
            BaseUrl = entry.BaseUrl ?? new Uri("http://localhost:11434"),
            KeyVariables = entry.ApiKeyEnv is { } keyVar ? [keyVar] : [],
            KeyRequired = entry.ApiKeyEnv is not null,
            DefaultModel = entry.DefaultModel,
        };

        var overrides = _entries.TryGetValue(entry.Name, out var existing) && existing.Source != ProviderSource.Config;
        if (overrides)
        {
            lock (_warnings)
            {
                _warnings.Add($"{Config.DisplayPath}: 'providers.{entry.Name}' has a type and replaces the {existing!.SourceName} provider '{entry.Name}'.");
            }
        }

        var created = new ProviderEntry(entry.Name, new ProtocolProviderPlugin(definition), ProviderSource.Config, Config.DisplayPath)
        {
            OverridesBuiltIn = overrides && existing!.Source == ProviderSource.BuiltIn,
        };
        _configs[entry.Name] = entry;
        _entries[entry.Name] = created;
        return created;
    }

    /// <summary>Gets the config.json entry for a provider, if any, with an entry under one of its aliases merged in.</summary>
    public ProviderConfig? ConfigFor(string name) => _configs.TryGetValue(name, out var entry) ? entry : null;

    /// <summary>
    /// Gets whether the user pointed Ally at a provider: config.json selects it (<c>provider</c>,
    /// <c>provider_per_model</c>, <c>fallbacks</c>, <c>gateway.default_provider</c>) or has a <c>providers</c> entry for
    /// it, or one of its variables (key or base URL) is set.
    /// </summary>
    public bool IsConfigured(ProviderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (ConfigFor(entry.Name) is not null || _selected.Value.Contains(entry.Name))
        {
            return true;
        }

        return entry.Definition is { } definition &&
            definition.KeyVariables.Append(definition.BaseUrlVariable).OfType<string>().Any(Environment.IsSet);
    }

    /// <summary>
    /// Gets whether health checks should call the provider: always, unless it is a local server that needs no key and
    /// nobody configured (<see cref="IsConfigured"/>), which would otherwise show as down whenever it is not running.
    /// </summary>
    public bool IsWorthChecking(ProviderEntry entry) => entry.Definition is not { KeyRequired: false } || IsConfigured(entry);

    /// <summary>Gets the model used when no role or flag names one: <c>default_model</c>, else the provider's variable for it, else its own default.</summary>
    public string? DefaultModel(ProviderEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return ConfigFor(entry.Name)?.DefaultModel
            ?? (entry.Definition?.DefaultModelVariable is { } variable ? Environment.Get(variable) : null)
            ?? SafeDefaultModel(entry.Plugin);
    }

    /// <summary>Gets the required variables, with <c>api_key_env</c> replacing the provider's usual key variable.</summary>
    public IReadOnlyList<string> RequiredVariables(ProviderEntry entry)
    {
        var required = SafeRequired(entry.Plugin);
        if (ConfigFor(entry.Name)?.ApiKeyEnv is { } keyVar && required.Count > 0)
        {
            var keyIndex = KeyVariableIndex(required);
            return [.. required.Select((v, i) => i == keyIndex ? keyVar : v)];
        }

        return required;
    }

    public ProviderStatus GetStatus(ProviderEntry entry, string? model = null)
    {
        var missing = RequiredVariables(entry).Where(v => !IsSatisfied(entry, v)).ToList();
        if (missing.Count > 0)
        {
            var where = Environment.DotEnvPath is { } path ? Path.GetRelativePath(System.Environment.CurrentDirectory, path) : ".env";
            return new ProviderStatus(ProviderStatus.MissingEnv, missing, $"set {string.Join(" and ", missing)} in {where} (see .env.example)");
        }

        try
        {
            var validation = entry.Plugin.ValidateConfig(ResolveSettings(entry, model));
            return validation.IsValid
                ? new ProviderStatus(ProviderStatus.Ready, [], null)
                : new ProviderStatus(ProviderStatus.Invalid, [], validation.Error);
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new ProviderStatus(ProviderStatus.Invalid, [], $"ValidateConfig failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Resolves what a provider gets from config.json, <c>.env</c> and the environment.</summary>
    public ProviderSettings ResolveSettings(ProviderEntry entry, string? model = null, double? temperature = null)
    {
        var config = ConfigFor(entry.Name);
        var definition = entry.Definition;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var variable in RequiredVariables(entry).Concat(definition?.KeyVariables ?? []))
        {
            if (Environment.Get(variable) is { } value)
            {
                values[variable] = value;
            }
        }

        if (config is not null)
        {
            foreach (var (key, value) in config.Values)
            {
                values[key] = value;
            }
        }

        // Settings the vendor's tools read from variables (AZURE_OPENAI_API_VERSION); config.json's own value wins.
        foreach (var (key, variables) in definition?.SettingVariables ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (string.IsNullOrEmpty(values.GetValueOrDefault(key)) &&
                variables.Select(Environment.Get).FirstOrDefault(v => !string.IsNullOrEmpty(v)) is { } fromEnvironment)
            {
                values[key] = fromEnvironment;
            }
        }

        return new ProviderSettings
        {
            Name = entry.Name,
            Model = model ?? DefaultModel(entry),
            BaseUrl = config?.BaseUrl ?? BaseUrlFromEnvironment(definition) ?? definition?.BaseUrl,
            ApiKey = ResolveKey(entry, config, definition),
            Temperature = temperature,
            Timeout = TimeSpan.FromSeconds(config?.TimeoutSeconds ?? 120),
            Values = values,
            HttpClient = SharedHttp.Client,
        };
    }

    /// <summary>Creates a client for a provider, or throws a <see cref="ConfigException"/> saying what to set.</summary>
    public IChatClient CreateClient(string providerName, string? model = null, double? temperature = null)
    {
        var entry = Get(providerName);
        var status = GetStatus(entry, model);
        if (!status.IsReady)
        {
            throw new ConfigException($"provider '{entry.Name}' is not ready: {status.Message}.");
        }

        try
        {
            return entry.Plugin.CreateClient(ResolveSettings(entry, model, temperature))
                ?? throw new InvalidOperationException("CreateClient returned null.");
        }
        catch (ProviderException)
        {
            throw;
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception ex) when (entry.Source == ProviderSource.Plugin)
#pragma warning restore CA1031
        {
            throw new ProviderException(ProviderErrorKind.Unknown, $"plugin '{entry.Name}' from {entry.Path} failed to create its client: {ex.Message}", entry.Name, innerException: ex);
        }
    }

    /// <summary>
    /// Takes config.json's <c>providers</c> entries. An entry under an alias (<c>gemini</c>) configures the provider it
    /// names (<c>google</c>); when both have one, they are merged key by key and the provider's own name wins, as the
    /// router does with its keys, with a warning naming the keys that disagree.
    /// </summary>
    private void AddConfigEntries(AllyConfig config)
    {
        string Canonical(ProviderConfig entry) =>
            entry.Type is null && !_entries.ContainsKey(entry.Name) && _aliases.TryGetValue(entry.Name, out var target) ? target : entry.Name;

        // Own names first, so that an alias's entry only fills what the provider's own entry leaves out.
        foreach (var entry in config.Providers.Values.OrderBy(e => Canonical(e) != e.Name).ThenBy(e => e.Name, StringComparer.Ordinal))
        {
            var name = Canonical(entry);
            if (name == entry.Name || !_configs.TryGetValue(name, out var own))
            {
                _configs[name] = entry with { Name = name };
                continue;
            }

            var conflicts = new List<string>();
            T? Pick<T>(string key, T? mine, T? theirs)
            {
                if (mine is not null && theirs is not null && !EqualityComparer<T>.Default.Equals(mine, theirs))
                {
                    conflicts.Add(key);
                }

                return mine ?? theirs;
            }

            var values = new Dictionary<string, string>(entry.Values, StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in own.Values)
            {
                if (values.TryGetValue(key, out var other) && other != value)
                {
                    conflicts.Add(key);
                }

                values[key] = value;
            }

            _configs[name] = own with
            {
                BaseUrl = Pick("base_url", own.BaseUrl, entry.BaseUrl),
                ApiKeyEnv = Pick("api_key_env", own.ApiKeyEnv, entry.ApiKeyEnv),
                DefaultModel = Pick("default_model", own.DefaultModel, entry.DefaultModel),
                TimeoutSeconds = Pick("timeout_seconds", own.TimeoutSeconds, entry.TimeoutSeconds),
                Values = values,
            };

            if (conflicts.Count > 0)
            {
                _warnings.Add($"{config.DisplayPath}: 'providers.{entry.Name}' and 'providers.{name}' both configure {name} ('{entry.Name}' is another name for it); where they disagree 'providers.{name}' wins: {string.Join(", ", conflicts.Order(StringComparer.Ordinal))}. Keep one entry.");
            }
        }
    }

    /// <summary>Gets the providers config.json selects by name, as the registry names them.</summary>
    private HashSet<string> SelectedByConfig()
    {
        var names = new List<string?> { Config.Provider };
        names.AddRange(Config.ProviderPerRole.Values);
        var root = Config.Root;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (root.TryGetProperty("fallbacks", out var fallbacks))
            {
                var chains = fallbacks.ValueKind == JsonValueKind.Object ? fallbacks.EnumerateObject().Select(p => p.Value) : [fallbacks];
                names.AddRange(chains
                    .Where(chain => chain.ValueKind == JsonValueKind.Array)
                    .SelectMany(chain => chain.EnumerateArray())
                    .Where(item => item.ValueKind == JsonValueKind.String)
                    .Select(item => RouteCandidate.TryParse(item.GetString())?.Provider));
            }

            if (root.TryGetProperty("gateway", out var gateway) && gateway.ValueKind == JsonValueKind.Object &&
                gateway.TryGetProperty("default_provider", out var provider) && provider.ValueKind == JsonValueKind.String)
            {
                names.Add(provider.GetString());
            }
        }

        return [.. names.Select(Find).OfType<ProviderEntry>().Select(e => e.Name)];
    }

    private string? ResolveKey(ProviderEntry entry, ProviderConfig? config, ProviderDefinition? definition)
    {
        if (config?.ApiKeyEnv is { } keyVar)
        {
            return Environment.Get(keyVar);
        }

        if (definition is not null)
        {
            return definition.KeyVariables.Select(Environment.Get).FirstOrDefault(v => v is not null);
        }

        var required = SafeRequired(entry.Plugin);
        var index = KeyVariableIndex(required);
        return index >= 0 ? Environment.Get(required[index]) : null;
    }

    private bool IsSatisfied(ProviderEntry entry, string variable)
    {
        if (Environment.IsSet(variable))
        {
            return true;
        }

        // A built-in accepts the vendor's usual names too (GEMINI_API_KEY for GOOGLE_GEN_AI_API_KEY).
        var alternatives = entry.Definition?.KeyVariables ?? [];
        return alternatives.Contains(variable, StringComparer.Ordinal) && alternatives.Any(Environment.IsSet);
    }

    private Uri? BaseUrlFromEnvironment(ProviderDefinition? definition)
    {
        if (definition?.BaseUrlVariable is not { } variable || Environment.Get(variable) is not { } value)
        {
            return null;
        }

        if (definition.Protocol == ProviderProtocol.Ollama)
        {
            return Ollama.OllamaChatClient.NormalizeHost(value);
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri : null;
    }

    private static int KeyVariableIndex(IReadOnlyList<string> variables)
    {
        for (var i = 0; i < variables.Count; i++)
        {
            if (variables[i].Contains("KEY", StringComparison.OrdinalIgnoreCase) || variables[i].Contains("TOKEN", StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return variables.Count > 0 ? 0 : -1;
    }

    private static IReadOnlyList<string> SafeRequired(IProviderPlugin plugin)
    {
        try
        {
            return plugin.RequiredEnvVars ?? [];
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
    }

    private static string? SafeDefaultModel(IProviderPlugin plugin)
    {
        try
        {
            return plugin.DefaultModel;
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
