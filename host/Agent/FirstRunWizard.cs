using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Providers;
using Ally.Host.Terminal;
using Spectre.Console;

namespace Ally.Host.Agent;

/// <summary>
/// The first run: when no provider is usable, shows the installed providers, lets the user choose one and type its
/// key or endpoint, checks it with one cheap call, then saves the key to <c>.env</c> (mode 600) and the choice to
/// config.json (keeping the rest of the file).
/// </summary>
internal sealed class FirstRunWizard
{
    private static readonly string[] SecretMarkers = ["KEY", "TOKEN", "SECRET", "PASSWORD"];

    private readonly IAnsiConsole _console;
    private readonly ProviderRegistry _registry;
    private readonly IProviderProbe _probe;
    private readonly LineEditor _editor;

    public FirstRunWizard(IAnsiConsole console, ProviderRegistry registry, IProviderProbe probe)
    {
        _console = console;
        _registry = registry;
        _probe = probe;
        _editor = new LineEditor(console);
    }

    /// <summary>Tells whether the provider the chat would use is missing or not ready.</summary>
    public static bool IsNeeded(ProviderRegistry registry, string role, string? providerOverride, string? modelOverride = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var selection = registry.Config.ForRole(role);
        var name = providerOverride ?? selection.Provider;
        var model = modelOverride ?? (providerOverride is null ? selection.Model : null);
        return registry.Find(name) is not { } entry || !registry.GetStatus(entry, model).IsReady;
    }

    /// <summary>
    /// Tells why the provider the chat would use is a local server that needs no key but does not answer (nothing
    /// listens at its address), or returns null when it answers or is not such a server.
    /// </summary>
    public static async Task<string?> SilentLocalServerAsync(
        ProviderRegistry registry,
        IProviderProbe probe,
        string role,
        string? providerOverride,
        string? modelOverride = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(probe);
        var selection = registry.Config.ForRole(role);
        if (registry.Find(providerOverride ?? selection.Provider) is not { Definition: { KeyRequired: false } } entry)
        {
            return null;
        }

        var settings = registry.ResolveSettings(entry, modelOverride ?? (providerOverride is null ? selection.Model : null));
        if (settings.BaseUrl is not { IsLoopback: true } address)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await probe.ProbeAsync(entry, settings, timeout.Token);
            return null;
        }
        catch (ProviderException ex) when (ex.Kind is ProviderErrorKind.Network)
        {
            return $"{entry.Name} needs no key, but nothing answers at {address}.";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
#pragma warning disable CA1031 // any other answer means something listens there: the chat reports what it says
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>Runs the wizard; true when a provider was saved, false when the user gave up.</summary>
    public Task<bool> RunAsync(CancellationToken cancellationToken = default) => RunAsync(null, cancellationToken);

    /// <summary>Runs the wizard; true when a provider was saved, false when the user gave up.</summary>
    /// <param name="reason">Why the configured provider cannot be used, when it is installed and set up but silent.</param>
    /// <param name="cancellationToken">The token to monitor for cancellation requests.</param>
    public async Task<bool> RunAsync(string? reason, CancellationToken cancellationToken)
    {
        _console.MarkupLine(reason is null
            ? "[bold]Welcome to Ally.[/] No provider is ready to use yet, so let's set one up."
            : $"[bold]Welcome to Ally.[/] {Markup.Escape(reason)} Start it, or set up another provider.");
        var entries = _registry.Entries;
        var table = new Table().Border(TableBorder.Simple).AddColumns("provider", "name", "needs", "status");
        foreach (var entry in entries)
        {
            var status = _registry.GetStatus(entry);
            table.AddRow(
                new Text(entry.Name, new Style(Color.Green)),
                new Text(Display(entry)),
                new Text(Needs(entry)),
                new Text(status.IsReady ? "ready" : "not set up", new Style(status.IsReady ? Color.Green : Color.Grey)));
        }

        _console.Write(table);
        while (true)
        {
            var name = (await _editor.ReadLineAsync("Which provider? (a name from the list, empty to quit) ", cancellationToken))?.Trim();
            if (string.IsNullOrEmpty(name))
            {
                _console.MarkupLine("[grey]Nothing saved. Set a key in .env (see .env.example) or run ally again.[/]");
                return false;
            }

            if (_registry.Find(name) is not { } chosen)
            {
                _console.MarkupLineInterpolated($"[yellow]'{name}' is not in the list.[/]");
                continue;
            }

            switch (await SetUpAsync(chosen, cancellationToken))
            {
                case Outcome.Saved:
                    return true;
                case Outcome.Quit:
                    _console.MarkupLine("[grey]Nothing saved.[/]");
                    return false;
            }
        }
    }

    private enum Outcome
    {
        Saved,
        ChooseAgain,
        Quit,
    }

    private async Task<Outcome> SetUpAsync(ProviderEntry entry, CancellationToken cancellationToken)
    {
        var settings = _registry.ResolveSettings(entry);
        var definition = entry.Definition;
        var variables = Variables(entry);
        var askEndpoint = definition is not null && (!definition.KeyRequired || definition.Protocol == ProviderProtocol.AzureOpenAI);
        while (true)
        {
            Uri? endpoint = null;
            if (askEndpoint)
            {
                var suggested = settings.BaseUrl?.ToString();
                var typed = (await _editor.ReadLineAsync(
                    suggested is null ? $"Endpoint of {Display(entry)}: " : $"Endpoint of {Display(entry)} [grey](Enter for {Markup.Escape(suggested)})[/]: ",
                    cancellationToken))?.Trim();
                var text = string.IsNullOrEmpty(typed) ? suggested : typed;
                if (text is null || !Uri.TryCreate(text, UriKind.Absolute, out endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
                {
                    _console.MarkupLine("[yellow]That is not an http:// or https:// address.[/]");
                    continue;
                }
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in variables)
            {
                var secret = SecretMarkers.Any(m => variable.Contains(m, StringComparison.OrdinalIgnoreCase));
                var optional = definition is { KeyRequired: false };
                var value = (await _editor.ReadLineAsync(
                    $"{variable}{(optional ? " [grey](optional, Enter to skip)[/]" : string.Empty)}: ",
                    cancellationToken,
                    secret))?.Trim();
                if (string.IsNullOrEmpty(value))
                {
                    if (optional)
                    {
                        continue;
                    }

                    return Outcome.ChooseAgain;
                }

                values[variable] = value;
            }

            var model = settings.Model;
            while (string.IsNullOrWhiteSpace(model))
            {
                // Some servers (LM Studio, vLLM) have no default model: the chat cannot start without one.
                model = (await _editor.ReadLineAsync($"Model to use with {Display(entry)}: ", cancellationToken))?.Trim();
                if (model is null)
                {
                    return Outcome.Quit;
                }
            }

            settings = settings with { Model = model };
            var candidate = settings with
            {
                BaseUrl = endpoint ?? settings.BaseUrl,
                ApiKey = variables.Count > 0 && values.TryGetValue(variables[0], out var key) ? key : settings.ApiKey,
                Values = Merge(settings.Values, values),
            };
            _console.MarkupLine("[grey]Checking…[/]");
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                var models = await _probe.ProbeAsync(entry, candidate, timeout.Token);
                _console.MarkupLineInterpolated($"[green]✓ {entry.Name} answered{(models is { } count ? $" and lists {count} models" : string.Empty)}.[/]");
            }
            catch (ProviderException ex)
            {
                var redacted = new SecretRedactor(values.Values).Redact(ProviderErrorText.Describe(ex, entry.Name, candidate.Model));
                _console.MarkupLineInterpolated($"[red]✗ {redacted}[/]");
                var answer = (await _editor.ReadLineAsync("[bold]r[/] try again · [bold]c[/] choose another provider · [bold]s[/] save anyway · [bold]q[/] quit: ", cancellationToken))?.Trim().ToLowerInvariant();
                switch (answer)
                {
                    case "s":
                        break;
                    case "c":
                        return Outcome.ChooseAgain;
                    case "q":
                    case null:
                        return Outcome.Quit;
                    default:
                        continue;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _console.MarkupLine("[red]✗ No answer within 30 seconds.[/]");
                continue;
            }

            Save(entry, settings, endpoint, values);
            return Outcome.Saved;
        }
    }

    private void Save(ProviderEntry entry, Abstractions.ProviderSettings settings, Uri? endpoint, Dictionary<string, string> values)
    {
        var config = _registry.Config;
        if (values.Count > 0)
        {
            var envPath = _registry.Environment.DotEnvPath ?? Path.Combine(config.Directory, ".env");
            DotEnvWriter.Set(envPath, values);
            _console.MarkupLineInterpolated($"[grey]Saved {string.Join(", ", values.Keys)} to {envPath} (readable only by you).[/]");
        }

        var baseUrl = endpoint is not null && endpoint != settings.BaseUrl ? endpoint : null;
        ConfigWriter.SelectProvider(config.FilePath, entry.Name, settings.Model, baseUrl);
        _console.MarkupLineInterpolated($"[grey]Saved provider {entry.Name}{(settings.Model is { } m ? $" and model {m}" : string.Empty)} to {config.FilePath}.[/]");
    }

    private IReadOnlyList<string> Variables(ProviderEntry entry)
    {
        var required = _registry.RequiredVariables(entry);
        if (required.Count > 0)
        {
            return required;
        }

        // A local server needs no key, but may sit behind one; its first key variable is offered as optional.
        return entry.Definition is { KeyVariables.Count: > 0 } definition && definition.Protocol != ProviderProtocol.AzureOpenAI
            ? [definition.KeyVariables[0]]
            : [];
    }

    private string Needs(ProviderEntry entry)
    {
        var required = _registry.RequiredVariables(entry);
        return required.Count > 0 ? string.Join(" + ", required) : "a running local server";
    }

    private static string Display(ProviderEntry entry)
    {
        try
        {
            return entry.Plugin.DisplayName;
        }
#pragma warning disable CA1031 // a plugin must not crash the host
        catch (Exception)
#pragma warning restore CA1031
        {
            return entry.Name;
        }
    }

    private static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> first, Dictionary<string, string> second)
    {
        var merged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in first)
        {
            merged[k] = v;
        }

        foreach (var (k, v) in second)
        {
            merged[k] = v;
        }

        return merged;
    }
}
