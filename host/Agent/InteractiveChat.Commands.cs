using Ally.Abstractions;
using Ally.Host.Configuration;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace Ally.Host.Agent;

/// <summary>The slash commands.</summary>
internal sealed partial class InteractiveChat
{
    private static readonly (string Command, string Help)[] Commands =
    [
        ("/help", "show this list"),
        ("/exit, /quit", "leave (Ctrl+D too); the session is saved"),
        ("/clear", "clear the screen (the conversation is kept)"),
        ("/new", "start a new conversation and session"),
        ("/provider [NAME]", "show or switch the provider; the conversation is kept"),
        ("/model [ID]", "show or switch the model; the conversation is kept"),
        ("/models", "list the models the provider serves"),
        ("/providers", "list the installed providers and whether they are ready"),
        ("/health [all]", "check that the provider (or every ready provider) answers"),
        ("/role [NAME]", "show or switch the role: general, code_gen, brainstormer, web_searcher"),
        ("/usage", "tokens and cost of this session"),
        ("/id", "show this session's id"),
        ("/sessions", "list recent sessions"),
        ("/resume ID", "continue a saved session"),
        ("/tools", "list the tools and which ones run without asking"),
        ("/retry", "ask again (after an error, or for another answer)"),
        ("/project [IDEA]", "turn an idea into a specification, then /build it"),
        ("/build", "build the project from the specification in spec/"),
        ("!command", "run a shell command in the working folder"),
    ];

    private async Task<bool> CommandAsync(string input, CancellationToken cancellationToken)
    {
        var space = input.IndexOf(' ', StringComparison.Ordinal);
        var name = (space < 0 ? input : input[..space]).ToLowerInvariant();
        var argument = space < 0 ? string.Empty : input[(space + 1)..].Trim();
        switch (name)
        {
            case "/exit":
            case "/quit":
                return false;
            case "/help":
            case "/?":
                ShowHelp();
                break;
            case "/clear":
                _console.Clear(true);
                ShowBanner();
                break;
            case "/new":
                StartNew(_conversation.Role, _conversation.Provider, _conversation.Model);
                _project = ProjectStage.None;
                _console.MarkupLineInterpolated($"[grey]New conversation, session {_conversation.Id}.[/]");
                break;
            case "/provider":
                SwitchProvider(argument);
                break;
            case "/model":
                SwitchModel(argument);
                break;
            case "/models":
                await ListModelsAsync(cancellationToken);
                break;
            case "/providers":
                ListProviders();
                break;
            case "/health":
                await HealthAsync(argument.Equals("all", StringComparison.OrdinalIgnoreCase), cancellationToken);
                break;
            case "/role":
                SwitchRole(argument);
                break;
            case "/usage":
                await ShowUsageAsync(cancellationToken);
                break;
            case "/id":
                _console.MarkupLineInterpolated($"Session [bold]{_conversation.Id}[/] [grey](resume with: ally -i {_conversation.Id}; stored in {_setup.Sessions.DatabasePath})[/]");
                break;
            case "/sessions":
                ListSessions();
                break;
            case "/resume":
                Resume(argument);
                break;
            case "/tools":
                ListTools();
                break;
            case "/retry":
                await RetryAsync(cancellationToken);
                break;
            case "/project":
                await StartProjectAsync(argument, cancellationToken);
                break;
            case "/build":
                await BuildProjectAsync(cancellationToken);
                break;
            default:
                _console.MarkupLineInterpolated($"[yellow]Unknown command {name}.[/] [grey]/help lists the commands; start a message with // to send a slash.[/]");
                break;
        }

        return true;
    }

    private void ShowHelp()
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn("command").AddColumn("what");
        foreach (var (command, help) in Commands)
        {
            table.AddRow(new Text(command, new Style(Color.Green)), new Text(help));
        }

        _console.Write(table);
        _console.MarkupLine("[grey]Multi-line input: end a line with \\ to continue it, or open a ``` block and close it with ```.[/]");
    }

    private void StartNew(string role, string? provider, string? model)
    {
        Save();
        var next = NewConversation(role, provider, model);
        next.Temperature = _setup.Config.ForRole(role).Temperature;
        _conversation = next;
        _pendingContext.Clear();
    }

    private void SwitchProvider(string name)
    {
        if (name.Length == 0)
        {
            _console.MarkupLineInterpolated($"Provider: [bold]{_conversation.Provider}[/] [grey](/providers lists them; /provider NAME switches)[/]");
            return;
        }

        if (_setup.Registry.Find(name) is not { } entry)
        {
            _console.MarkupLineInterpolated($"[yellow]'{name}' is not installed.[/] [grey]Installed: {string.Join(", ", _setup.Registry.Names)}.[/]");
            return;
        }

        var status = _setup.Registry.GetStatus(entry);
        if (!status.IsReady)
        {
            _console.MarkupLineInterpolated($"[yellow]{entry.Name} is not ready: {_setup.Redactor.Redact(status.Message)}.[/]");
            return;
        }

        _conversation.Provider = entry.Name;
        _conversation.Model = _setup.DefaultModel(entry.Name);
        Save();
        _console.MarkupLineInterpolated($"[grey]Now using {entry.Name} · {_setup.DefaultModel(entry.Name) ?? "its default model"}; the conversation is kept.[/]");
    }

    private void SwitchModel(string model)
    {
        if (model.Length == 0)
        {
            _console.MarkupLineInterpolated($"Model: [bold]{_conversation.Model ?? _setup.DefaultModel(_conversation.Provider) ?? "the provider's default"}[/] [grey]({_conversation.Provider}; /models lists them; /model ID switches)[/]");
            return;
        }

        _conversation.Model = model;
        Save();
        _console.MarkupLineInterpolated($"[grey]Now using {_conversation.Provider} · {model}; the conversation is kept.[/]");
    }

    private async Task ListModelsAsync(CancellationToken cancellationToken)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var armed = _interrupts.Arm(run);
        var current = _conversation.Model ?? _setup.DefaultModel(_conversation.Provider);
        IReadOnlyList<string> ids;
        try
        {
            using var client = _setup.Clients.Create(Target());
            if (client.GetService(typeof(IModelLister)) is IModelLister lister)
            {
                ids = [.. (await lister.ListModelsAsync(run.Token)).Select(m => m.Id)];
            }
            else
            {
                ids = _setup.Registry.Find(_conversation.Provider)?.Plugin.KnownModels ?? [];
                _console.MarkupLine("[grey]This provider cannot list its models; these are the ones it is known to serve:[/]");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _console.MarkupLine("[yellow]Stopped.[/]");
            return;
        }
        catch (ProviderException ex)
        {
            ShowError(_setup.Redactor.Redact(ProviderErrorText.Describe(ex, _conversation.Provider, current)), ex);
            return;
        }
        catch (ConfigException ex)
        {
            ShowError(_setup.Redactor.Redact(ex.Message), ex);
            return;
        }

        foreach (var id in ids)
        {
            _console.Write(new Text((id == current ? "* " : "  ") + id + "\n", id == current ? new Style(Color.Green) : Style.Plain));
        }

        _console.MarkupLineInterpolated($"[grey]{ids.Count} models · /model ID switches[/]");
    }

    private void ListProviders()
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("provider", "source", "status", "default model");
        foreach (var entry in _setup.Registry.Entries)
        {
            var status = _setup.Registry.GetStatus(entry);
            var name = entry.Name == _conversation.Provider ? $"* {entry.Name}" : $"  {entry.Name}";
            table.AddRow(
                new Text(name, entry.Name == _conversation.Provider ? new Style(Color.Green) : Style.Plain),
                new Text(entry.SourceName),
                new Text(status.IsReady ? "ready" : _setup.Redactor.Redact(status.Message ?? status.State), status.IsReady ? Style.Plain : new Style(Color.Grey)),
                new Text(_setup.Registry.ResolveSettings(entry).Model ?? "-"));
        }

        _console.Write(table);
    }

    private async Task HealthAsync(bool all, CancellationToken cancellationToken)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var armed = _interrupts.Arm(run);
        var names = all
            ? _setup.Registry.Entries.Where(e => _setup.Registry.IsWorthChecking(e) && _setup.Registry.GetStatus(e).IsReady).Select(e => e.Name).ToList()
            : [_conversation.Provider];
        var checks = names.Select(async name =>
        {
            var started = _setup.TimeProvider.GetTimestamp();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                var model = name == _conversation.Provider ? _conversation.Model : null;
                using var client = _setup.Clients.Create(new ChatTarget(_conversation.Role, name, model, null, _conversation.Id));
                if (client.GetService(typeof(IModelLister)) is IModelLister lister)
                {
                    var models = await lister.ListModelsAsync(timeout.Token);
                    return (name, ok: true, text: $"ok · {models.Count} models listed · {Elapsed(started)}");
                }

                await client.GetResponseAsync("Reply with: ok", new ChatOptions { MaxOutputTokens = 5 }, timeout.Token);
                return (name, ok: true, text: $"ok · answered · {Elapsed(started)}");
            }
            catch (ProviderException ex)
            {
                return (name, ok: false, text: _setup.Redactor.Redact(ProviderErrorText.Describe(ex, name, null)));
            }
            catch (ConfigException ex)
            {
                return (name, ok: false, text: _setup.Redactor.Redact(ex.Message));
            }
            catch (OperationCanceledException) when (!run.IsCancellationRequested)
            {
                return (name, ok: false, text: "no answer within 20 s");
            }
        }).ToList();

        try
        {
            foreach (var (name, ok, text) in await Task.WhenAll(checks))
            {
                _console.Write(new Text($"{(ok ? "✓" : "✗")} {name}: {text}\n", new Style(ok ? Color.Green : Color.Red)));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _console.MarkupLine("[yellow]Stopped.[/]");
        }
    }

    private string Elapsed(long started) => $"{_setup.TimeProvider.GetElapsedTime(started).TotalMilliseconds:0} ms";

    private void SwitchRole(string role)
    {
        if (role.Length == 0)
        {
            _console.MarkupLineInterpolated($"Role: [bold]{_conversation.Role}[/] [grey](roles: {string.Join(", ", AllyRoles.All)})[/]");
            return;
        }

        if (!AllyRoles.IsKnown(role))
        {
            _console.MarkupLineInterpolated($"[yellow]'{role}' is not a role.[/] [grey]The roles are {string.Join(", ", AllyRoles.All)}.[/]");
            return;
        }

        var selection = _setup.Config.ForRole(role);
        _conversation.Role = role;
        _conversation.Temperature = selection.Temperature;
        if (selection.Provider is { } provider && _setup.Registry.Find(provider) is { } entry)
        {
            _conversation.Provider = entry.Name;
            _conversation.Model = selection.Model ?? _setup.DefaultModel(entry.Name);
        }

        Save();
        _console.MarkupLineInterpolated($"[grey]Role {role} · {_conversation.Provider} · {_conversation.Model ?? _setup.DefaultModel(_conversation.Provider) ?? "default model"}; the conversation is kept.[/]");
    }

    private async Task ShowUsageAsync(CancellationToken cancellationToken)
    {
        var c = _conversation;
        var cost = c.UnknownCostTurns == 0 ? CostReader.Format(c.CostUsd)
            : c.UnknownCostTurns == c.Turns ? "cost unknown"
            : $"{CostReader.Format(c.CostUsd)} + {c.UnknownCostTurns} turn(s) of unknown cost";
        _console.MarkupLineInterpolated($"This session: {c.Turns} turns · {c.InputTokens:N0} in / {c.OutputTokens:N0} out tokens · {cost}");
        if (_setup.Usage is { } usage)
        {
            var now = _setup.TimeProvider.GetUtcNow();
            var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
            var month = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
            var daily = await usage.GetSpendAsync(today, now.AddSeconds(1), cancellationToken);
            var monthly = await usage.GetSpendAsync(month, now.AddSeconds(1), cancellationToken);
            _console.MarkupLineInterpolated($"Today (UTC): {CostReader.Format(daily)} · this month: {CostReader.Format(monthly)} [grey](known costs; 'ally usage' breaks them down)[/]");
        }
    }

    private void ListSessions()
    {
        var sessions = _setup.Sessions.List(20);
        if (sessions.Count == 0)
        {
            _console.MarkupLine("[grey]No saved sessions yet.[/]");
            return;
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("id", "started", "role", "provider · model", "first prompt", "turns");
        foreach (var s in sessions)
        {
            var prompt = s.FirstPrompt ?? string.Empty;
            table.AddRow(
                new Text(s.Id == _conversation.Id ? s.Id + " *" : s.Id),
                new Text(s.StartedAt.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)),
                new Text(s.Role),
                new Text($"{s.Provider} · {s.Model ?? "default"}"),
                new Text(prompt.Length > 40 ? prompt[..40].ReplaceLineEndings(" ") + "…" : prompt.ReplaceLineEndings(" ")),
                new Text(s.Turns.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        _console.Write(table);
        _console.MarkupLine("[grey]/resume ID continues one.[/]");
    }

    private void Resume(string id)
    {
        if (id.Length == 0)
        {
            _console.MarkupLine("[yellow]Usage: /resume ID[/] [grey](/sessions lists them)[/]");
            return;
        }

        Conversation? loaded;
        try
        {
            loaded = _setup.Sessions.Load(id);
        }
        catch (ConfigException ex)
        {
            _console.MarkupLineInterpolated($"[yellow]{ex.Message}[/]");
            return;
        }

        if (loaded is null)
        {
            _console.MarkupLineInterpolated($"[yellow]There is no session '{id}'.[/] [grey]/sessions lists them.[/]");
            return;
        }

        Save();
        _conversation = loaded;
        _pendingContext.Clear();
        ShowHistory(loaded);
    }

    private void ListTools()
    {
        if (!_setup.ToolsEnabled)
        {
            _console.MarkupLine("[grey]Tools are off (--no-tools).[/]");
            return;
        }

        var permissions = _loop.Permissions;
        foreach (var tool in _setup.Tools)
        {
            var runs = permissions.IsPreApproved(tool.Name) ? "runs without asking" : "asks first";
            _console.Write(new Text($"{tool.Name,-16} {runs,-20} ", permissions.IsPreApproved(tool.Name) ? new Style(Color.Green) : Style.Plain));
            var description = tool.Description.Split('.')[0];
            _console.Write(new Text(description + "\n", new Style(Color.Grey)));
        }

        _console.MarkupLineInterpolated($"[grey]Working folder {_setup.Directory} · at most {_setup.ToolSettings.MaxIterations} model calls a turn (tools.max_iterations) · config.json tools.allow lists tools that never ask.[/]");
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        var messages = _conversation.Messages;
        var lastUser = messages.FindLastIndex(m => m.Role == ChatRole.User);
        if (lastUser < 0)
        {
            _console.MarkupLine("[grey]Nothing to retry yet.[/]");
            return;
        }

        _conversation.TruncateFrom(lastUser + 1);
        await RunTurnAsync(cancellationToken);
    }
}
