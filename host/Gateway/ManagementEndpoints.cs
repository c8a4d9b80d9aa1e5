using System.Globalization;
using System.Text.Json;
using Ally.Host.Cli;
using Ally.Host.Configuration;
using Ally.Host.Providers;
using Ally.Host.Usage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Gateway;

/// <summary>
/// <c>GET /v1/models</c> and the management API under <c>/api</c>: provider status, models, run-time registration,
/// the default provider, health and usage.
/// </summary>
internal sealed class ManagementEndpoints
{
    private readonly ProviderRegistry _registry;
    private readonly ModelCatalog _catalog;
    private readonly GatewayState _state;
    private readonly UsageStore? _usage;
    private readonly SecretRedactor _redactor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _maxRequestBytes;

    public ManagementEndpoints(
        ProviderRegistry registry,
        ModelCatalog catalog,
        GatewayState state,
        UsageStore? usage,
        SecretRedactor redactor,
        TimeProvider time,
        ILogger<ManagementEndpoints> logger,
        GatewayOptions options)
    {
        _maxRequestBytes = options.MaxRequestBytes;
        _registry = registry;
        _catalog = catalog;
        _state = state;
        _usage = usage;
        _redactor = redactor;
        _time = time;
        _logger = logger;
    }

    /// <summary><c>GET /v1/models</c>: every ready provider's models as <c>provider/model</c>, in OpenAI's list schema.</summary>
    public async Task ListOpenAIModelsAsync(HttpContext context)
    {
        var lists = await _catalog.ListReadyAsync(context.RequestAborted);
        await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, lists, static (writer, lists) =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var list in lists)
            {
                foreach (var model in list.Models)
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", list.Provider + "/" + model.Id);
                    writer.WriteString("object", "model");
                    writer.WriteNumber("created", 0);
                    writer.WriteString("owned_by", list.Provider);
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary><c>GET /api/providers</c>.</summary>
    public Task ListProvidersAsync(HttpContext context)
    {
        var entries = _registry.Entries;
        return GatewayJson.WriteAsync(context, StatusCodes.Status200OK, this, (writer, self) =>
        {
            writer.WriteStartObject();
            WriteStringOrNull(writer, "default_provider", self._state.DefaultProvider);
            writer.WriteStartArray("providers");
            foreach (var entry in entries)
            {
                self.WriteProvider(writer, entry);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary><c>GET /api/providers/{name}/models</c>.</summary>
    public async Task ListProviderModelsAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string;
        if (_registry.Find(name) is not { } entry)
        {
            await GatewayJson.WriteErrorAsync(context, GatewayErrors.NotFound($"No provider is named '{name}'; GET /api/providers lists them."));
            return;
        }

        var models = await _catalog.ListAsync(entry, context.RequestAborted);
        await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, models, WriteModels);
    }

    /// <summary><c>GET /api/providers/models</c>: the models of every ready provider, grouped.</summary>
    public async Task ListAllModelsAsync(HttpContext context)
    {
        var lists = await _catalog.ListReadyAsync(context.RequestAborted);
        await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, lists, static (writer, lists) =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("providers");
            foreach (var list in lists)
            {
                WriteModels(writer, list);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary><c>GET /api/providers/health</c>: cheap concurrent checks (a model listing) with status and latency.</summary>
    public async Task CheckHealthAsync(HttpContext context)
    {
        var results = await _catalog.CheckAllAsync(context.RequestAborted);
        await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, results, static (writer, results) =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("providers");
            foreach (var health in results)
            {
                writer.WriteStartObject();
                writer.WriteString("name", health.Provider);
                writer.WriteString("status", health.Status);
                if (health.LatencyMs is { } latency)
                {
                    writer.WriteNumber("latency_ms", latency);
                }
                else
                {
                    writer.WriteNull("latency_ms");
                }

                WriteStringOrNull(writer, "error_kind", health.ErrorKind);
                WriteStringOrNull(writer, "message", health.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary><c>POST /api/providers/register</c>: adds a provider from a config entry; 201 with its status.</summary>
    public async Task RegisterAsync(HttpContext context)
    {
        ProviderEntry entry;
        try
        {
            ProviderConfig config;
            using (var body = await GatewayBody.ReadJsonAsync(context, _maxRequestBytes))
            {
                config = ProviderRegistration.Read(body.Root);
            }

            if (_registry.Find(config.Name) is { Source: not ProviderSource.Config } existing)
            {
                await GatewayJson.WriteErrorAsync(context, new GatewayError(
                    StatusCodes.Status409Conflict,
                    GatewayError.InvalidRequest,
                    "provider_exists",
                    $"'{config.Name}' is the {existing.SourceName} provider '{existing.Name}'; register under another name.",
                    "name"));
                return;
            }

            entry = _registry.AddConfigDefined(config);
            GatewayLog.ProviderRegistered(_logger, entry.Name, config.Type!);
        }
        catch (GatewayException exception)
        {
            await GatewayJson.WriteErrorAsync(context, exception.Error);
            return;
        }
        catch (ConfigException exception)
        {
            await GatewayJson.WriteErrorAsync(context, GatewayError.BadRequest(_redactor.Redact(exception.Message), code: "invalid_provider"));
            return;
        }

        context.Response.Headers.Location = "/api/providers/" + entry.Name + "/models";
        await GatewayJson.WriteAsync(context, StatusCodes.Status201Created, (self: this, entry), static (writer, state) => state.self.WriteProvider(writer, state.entry));
    }

    /// <summary><c>POST /api/providers/{name}/default</c>: sets the provider of bare model names while the gateway runs.</summary>
    public async Task SetDefaultAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string;
        if (_registry.Find(name) is not { } entry)
        {
            await GatewayJson.WriteErrorAsync(context, GatewayErrors.NotFound($"No provider is named '{name}'; GET /api/providers lists them."));
            return;
        }

        var status = _registry.GetStatus(entry);
        if (!status.IsReady)
        {
            await GatewayJson.WriteErrorAsync(context, new GatewayError(
                StatusCodes.Status409Conflict, GatewayError.InvalidRequest, "provider_not_ready", $"'{entry.Name}' is not ready: {_redactor.Redact(status.Message)}."));
            return;
        }

        _state.DefaultProvider = entry.Name;
        GatewayLog.DefaultProviderSet(_logger, entry.Name);
        await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, entry.Name, static (writer, name) =>
        {
            writer.WriteStartObject();
            writer.WriteString("default_provider", name);
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// <c>GET /api/usage?since=2025-01-01&amp;by=model&amp;limit=50</c>: the report of <c>ally usage --json</c> from the usage
    /// store (every Ally process's calls, the gateway's with the role <c>gateway</c>), plus the latest calls in <c>recent</c>.
    /// </summary>
    public async Task GetUsageAsync(HttpContext context)
    {
        if (_usage is null)
        {
            await GatewayJson.WriteErrorAsync(context, GatewayErrors.NotFound("This gateway records no usage."));
            return;
        }

        var query = context.Request.Query;
        DateTimeOffset? since;
        UsageGrouping by;
        try
        {
            since = UsageCommand.ParseSince(query["since"].ToString(), _time.GetUtcNow());
        }
        catch (ConfigException)
        {
            await GatewayJson.WriteErrorAsync(context, GatewayError.BadRequest("'since' must be a date such as 2026-11-01, an ISO 8601 time, or a number of days such as 7d.", "since"));
            return;
        }

        try
        {
            by = UsageCommand.ParseGrouping(query.TryGetValue("by", out var byText) ? byText.ToString() : null);
        }
        catch (ConfigException)
        {
            await GatewayJson.WriteErrorAsync(context, GatewayError.BadRequest("'by' must be one of provider, model, day, role.", "by"));
            return;
        }

        var limit = 50;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit > 1000))
        {
            await GatewayJson.WriteErrorAsync(context, GatewayError.BadRequest("'limit' must be a whole number from 0 to 1000.", "limit"));
            return;
        }

        var report = await UsageReport.BuildAsync(_usage, since, by, context.RequestAborted);
        var recent = limit > 0 ? await _usage.ReadLatestAsync(since, limit, context.RequestAborted) : [];
        await GatewayJson.WriteAsync(context, StatusCodes.Status200OK, (report, recent, redactor: _redactor), static (writer, state) =>
            state.report.WriteJson(writer, state.recent, state.redactor.Redact));
    }

    /// <summary><c>GET /health</c>: liveness, no authentication.</summary>
    public static Task HealthAsync(HttpContext context) =>
        GatewayJson.WriteAsync(context, StatusCodes.Status200OK, 0, static (writer, _) =>
        {
            writer.WriteStartObject();
            writer.WriteString("status", "ok");
            writer.WriteEndObject();
        });

    private void WriteProvider(Utf8JsonWriter writer, ProviderEntry entry)
    {
        var status = _registry.GetStatus(entry);
        string? defaultModel;
        try
        {
            defaultModel = _registry.ResolveSettings(entry).Model;
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
            defaultModel = null;
        }

        writer.WriteStartObject();
        writer.WriteString("name", entry.Name);
        writer.WriteString("source", entry.SourceName);
        writer.WriteString("status", status.State);
        WriteStringOrNull(writer, "default_model", defaultModel);
        writer.WriteStartArray("missing_env_vars");
        foreach (var variable in status.MissingEnvVars)
        {
            writer.WriteStringValue(variable);
        }

        writer.WriteEndArray();
        writer.WriteBoolean("overrides_builtin", entry.OverridesBuiltIn);
        writer.WriteBoolean("is_default", string.Equals(entry.Name, _state.DefaultProvider, StringComparison.Ordinal));
        WriteStringOrNull(writer, "message", status.Message is null ? null : _redactor.Redact(status.Message));
        writer.WriteEndObject();
    }

    private static void WriteModels(Utf8JsonWriter writer, ModelListing models)
    {
        writer.WriteStartObject();
        writer.WriteString("provider", models.Provider);
        writer.WriteString("source", models.Source);
        WriteStringOrNull(writer, "error", models.Note);
        writer.WriteStartArray("models");
        foreach (var model in models.Models)
        {
            writer.WriteStringValue(model.Id);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
