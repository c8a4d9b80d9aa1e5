using System.Threading.RateLimiting;
using Ally.Host.Configuration;
using Ally.Host.Providers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Gateway;

/// <summary>
/// The gateway's web server: Kestrel with the endpoints of <c>ally serve</c>, built without the default host's
/// configuration sources (no appsettings.json, no ASPNETCORE_URLS) so that only Ally's settings apply.
/// </summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, IReadOnlyList<Uri> addresses, GatewayState state)
    {
        _app = app;
        Addresses = addresses;
        State = state;
    }

    /// <summary>Gets the addresses Kestrel listens on, with the real ports when port 0 was asked for.</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    public GatewayState State { get; }

    /// <summary>
    /// Applies the process-wide half of <see cref="GatewayOptions.InlineIo"/>: the runtime's inline socket completions,
    /// which it reads once, when the process's first socket starts waiting. So call this before that (in ally serve,
    /// before Kestrel listens or a provider is called); <see cref="StartAsync"/> sets Kestrel's half itself.
    /// </summary>
    public static void PrepareProcess(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.InlineIo)
        {
            Environment.SetEnvironmentVariable(GatewayOptions.InlineCompletionsVariable, "1");
        }
    }

    /// <summary>Builds and starts the gateway; throws a <see cref="ConfigException"/> when an address cannot be bound.</summary>
    public static async Task<GatewayHost> StartAsync(GatewayServices services, GatewayOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = GatewayBody.KestrelLimit(options.MaxRequestBytes);
        });
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.InlineIo);
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<ILoggerFactory>(new GatewayLoggerFactory(services.LoggerFactory));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        if (options.RpmPerKey is { } rpm)
        {
            builder.Services.AddRateLimiter(limiter => ConfigureRateLimiter(limiter, rpm));
        }

        var state = new GatewayState(options.DefaultProvider, options.MaxConcurrentStreams);
        var loggers = services.LoggerFactory;

        var chat = new ChatCompletionsEndpoint(
            new ModelResolver(services.Registry, state, options.Aliases),
            services.Clients,
            state,
            services.Redactor,
            services.TimeProvider,
            loggers.CreateLogger<ChatCompletionsEndpoint>(),
            options);
        var probe = new ProviderProbe(services.Registry, services.TimeProvider);
        var catalog = new ModelCatalog(services.Registry, probe, state, services.Redactor, services.TimeProvider, options);
        var management = new ManagementEndpoints(
            services.Registry, catalog, state, services.Usage, services.Redactor, services.TimeProvider, loggers.CreateLogger<ManagementEndpoints>(), options);
        var auth = new GatewayAuth(options);

        var app = builder.Build();
        app.Use(auth.InvokeAsync);
        if (options.RpmPerKey is not null)
        {
            app.UseRateLimiter();
        }

        app.MapGet("/health", ManagementEndpoints.HealthAsync);
        app.MapPost("/v1/chat/completions", chat.HandleAsync);
        app.MapGet("/v1/models", management.ListOpenAIModelsAsync);
        app.MapGet("/api/providers", management.ListProvidersAsync);
        app.MapGet("/api/providers/models", management.ListAllModelsAsync);
        app.MapGet("/api/providers/health", management.CheckHealthAsync);
        app.MapGet("/api/providers/{name}/models", management.ListProviderModelsAsync);
        app.MapPost("/api/providers/register", management.RegisterAsync);
        app.MapPost("/api/providers/{name}/default", management.SetDefaultAsync);
        app.MapGet("/api/usage", management.GetUsageAsync);
        app.MapFallback(static context => GatewayJson.WriteErrorAsync(
            context, GatewayErrors.NotFound($"No endpoint answers {context.Request.Method} {context.Request.Path}; see /v1/chat/completions, /v1/models and /api/providers.")));

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException exception)
        {
            await app.DisposeAsync();
            throw new ConfigException($"cannot listen on {string.Join(", ", options.Urls)}: {exception.Message} Pass --urls with a free address.", exception);
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)))
            .ToList();
        state.SetOwnPorts(addresses.Select(a => a.Port));
        return new GatewayHost(app, addresses, state);
    }

    /// <summary>Waits until the token is cancelled (Ctrl+C) or the host stops.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static void ConfigureRateLimiter(RateLimiterOptions limiter, int rpm)
    {
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            context.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase)
                ? RateLimitPartition.GetFixedWindowLimiter(GatewayAuth.ClientKeyName(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = rpm,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(string.Empty));
        limiter.OnRejected = static (rejected, _) =>
        {
            TimeSpan? retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
            return new ValueTask(GatewayJson.WriteErrorAsync(rejected.HttpContext, GatewayErrors.RateLimited(retryAfter)));
        };
    }
}
