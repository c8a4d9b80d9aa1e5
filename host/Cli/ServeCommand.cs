using System.CommandLine;
using Ally.Host.Gateway;
using Ally.Host.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ally.Host.Cli;

/// <summary><c>ally serve [--urls http://127.0.0.1:8080]</c>: every provider behind one OpenAI-compatible endpoint.</summary>
internal static class ServeCommand
{
    public static Command Create(AllyCommandLine cli)
    {
        var urls = new Option<string?>("--urls")
        {
            Description = $"Addresses to listen on, separated by ';' (default {GatewayOptions.DefaultUrl}). Beyond loopback needs client keys (gateway.keys or {GatewayOptions.KeysVariable}).",
        };
        var command = new Command("serve", "Serve every provider behind an OpenAI-compatible API (/v1/chat/completions, /v1/models) and the management API (/api).");
        command.Options.Add(urls);
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, context => RunAsync(context, parseResult.GetValue(urls), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, string? urls, CancellationToken cancellationToken)
    {
        var options = GatewayOptions.Read(context.Config, context.Registry.Environment, urls);
        GatewayHost.PrepareProcess(options);

        var services = new GatewayServices
        {
            Registry = context.Registry,
            Redactor = context.Redactor,
            TimeProvider = context.Services.GetService<TimeProvider>() ?? TimeProvider.System,
            Clients = context.Services.GetRequiredService<IGatewayClientFactory>(),
            Usage = context.Services.GetRequiredService<UsageStore>(),
            LoggerFactory = context.Services.GetRequiredService<ILoggerFactory>(),
        };

        await using var gateway = await GatewayHost.StartAsync(services, options, cancellationToken);
        var output = context.Streams.Output;
        foreach (var address in gateway.Addresses)
        {
            await output.WriteLineAsync($"Ally gateway listening on {address} (OpenAI API at {new Uri(address, "v1")}).");
        }

        await output.WriteLineAsync(options.ClientKeys.Count == 0
            ? "/v1 is open to this machine only: no client keys are set (gateway.keys or ALLY_GATEWAY_KEYS)."
            : $"/v1 needs one of {options.ClientKeys.Count} client key(s) as 'Authorization: Bearer <key>'.");
        await output.WriteLineAsync(options.AdminKey is null
            ? "/api answers this machine only: no admin key is set (gateway.admin_key or ALLY_GATEWAY_ADMIN_KEY)."
            : "/api needs the admin key as 'Authorization: Bearer <key>'.");
        await output.WriteLineAsync("Press Ctrl+C to stop.");
        await output.FlushAsync(cancellationToken);

        try
        {
            await gateway.WaitForShutdownAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return ExitCodes.Success;
    }
}
