using Ally.Abstractions;
using Ally.Host.Agent.Tools;
using Ally.Host.Configuration;
using Ally.Host.Terminal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Ally.Host.Agent;

/// <summary>
/// The interactive chat: reads messages and commands, runs each turn through the tool loop while the answer
/// streams, saves every completed turn, and keeps going whatever a provider does. Ctrl+C stops the answer in flight;
/// Ctrl+D or /exit leave.
/// </summary>
internal sealed partial class InteractiveChat
{
    private readonly IAnsiConsole _console;
    private readonly AgentSetup _setup;
    private readonly IInterruptSignal _interrupts;
    private readonly LineEditor _editor;
    private readonly ToolLoop _loop;
    private readonly List<string> _pendingContext = [];
    private Conversation _conversation;
    private ProjectStage _project;

    public InteractiveChat(IAnsiConsole console, AgentSetup setup, IInterruptSignal interrupts, string role, string? provider = null, string? model = null, bool detectPaste = false)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _console = console;
        _setup = setup;
        _interrupts = interrupts;
        _editor = new LineEditor(console, detectPaste);
        var permissions = new ToolPermissions(setup.ToolSettings.Allow, setup.AllowAllTools, new ConsoleToolPrompter(console, _editor));
        _loop = new ToolLoop(permissions, setup.ToolSettings.MaxIterations, setup.Logger);
        _conversation = NewConversation(role, provider, model);
    }

    private enum ProjectStage
    {
        None,
        Brainstorming,
        Building,
    }

    /// <summary>Gets the conversation in progress.</summary>
    public Conversation Conversation => _conversation;

    /// <summary>Runs the chat until the user leaves; returns the id of the last session.</summary>
    public async Task<string> RunAsync(Conversation? resume = null, string? firstCommand = null, CancellationToken cancellationToken = default)
    {
        if (resume is not null)
        {
            _conversation = resume;
            ShowHistory(resume);
        }

        ShowBanner();
        if (firstCommand is not null && !await HandleAsync(firstCommand, cancellationToken))
        {
            return _conversation.Id;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var input = await _editor.ReadMessageAsync(PromptMarkup(), cancellationToken);
            if (input is null)
            {
                break;
            }

            if (!await HandleAsync(input, cancellationToken))
            {
                break;
            }
        }

        if (_conversation.Turns > 0)
        {
            _console.MarkupLine($"[grey]Session {_conversation.Id} saved. Resume it with[/] ally -i {_conversation.Id}");
        }

        return _conversation.Id;
    }

    /// <summary>Handles one message or command; false when the user leaves.</summary>
    internal async Task<bool> HandleAsync(string input, CancellationToken cancellationToken)
    {
        var trimmed = input.Trim();
        if (trimmed.Length == 0)
        {
            return true;
        }

        if (trimmed.StartsWith('/') && !trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return await CommandAsync(trimmed, cancellationToken);
        }

        if (trimmed.StartsWith('!'))
        {
            await ShellAsync(trimmed[1..].Trim(), cancellationToken);
            return true;
        }

        await SendAsync(input, cancellationToken);
        return true;
    }

    private async Task SendAsync(string prompt, CancellationToken cancellationToken)
    {
        var text = prompt;
        if (_pendingContext.Count > 0)
        {
            text = string.Join("\n\n", _pendingContext) + "\n\n" + prompt;
            _pendingContext.Clear();
        }

        _conversation.FirstPrompt ??= prompt.Length > 200 ? prompt[..200] : prompt;
        _conversation.Messages.Add(new ChatMessage(ChatRole.User, text));
        await RunTurnAsync(cancellationToken);
    }

    /// <summary>Runs the model on the conversation as it is (it ends with the user's message or tool results).</summary>
    private async Task RunTurnAsync(CancellationToken cancellationToken)
    {
        using var turn = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var armed = _interrupts.Arm(turn);
        var view = new ChatTurnView(_console);
        var target = Target();
        IChatClient client;
        try
        {
            client = _setup.Clients.Create(target);
        }
        catch (ConfigException ex)
        {
            ShowError(_setup.Redactor.Redact(ex.Message), ex);
            Save();
            return;
        }
        catch (ProviderException ex)
        {
            ShowError(ProviderErrorText.Describe(ex, target.Provider, target.Model), ex);
            Save();
            return;
        }

        try
        {
            var options = new ChatOptions
            {
                ModelId = _conversation.Model,
                Temperature = (float?)_conversation.Temperature,
                Tools = _setup.ToolsEnabled ? [.. _setup.Tools] : null,
            };
            var result = await _loop.RunAsync(client, SystemPrompt(), _conversation.Messages, options, _setup.Stream, view, turn.Token);
            view.Complete();
            _conversation.Record(result);
            Save();
            ShowTurnLine(result);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            view.Complete();
            KeepPartial(view.UnsavedText, "(interrupted)");
            Save();
            _console.MarkupLine("[yellow]Stopped.[/] [grey]The conversation is kept; /retry asks again.[/]");
        }
        catch (ProviderException ex)
        {
            view.Complete();
            KeepPartial(ex.PartialText ?? view.UnsavedText, "(broke off)");
            Save();
            ShowError(_setup.Redactor.Redact(ProviderErrorText.Describe(ex, target.Provider, _conversation.Model ?? _setup.DefaultModel(target.Provider))), ex);
        }
#pragma warning disable CA1031 // nothing a provider or a plugin does may end the chat
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            view.Complete();
            Save();
            ShowError(_setup.Redactor.Redact($"The call to {target.Provider} failed: {ex.GetType().Name}: {ex.Message}"), ex);
        }
        finally
        {
            client.Dispose();
        }
    }

    private void KeepPartial(string text, string note)
    {
        if (!string.IsNullOrWhiteSpace(text))
        {
            _conversation.Messages.Add(new ChatMessage(ChatRole.Assistant, text.TrimEnd() + " " + note));
        }
    }

    private async Task ShellAsync(string command, CancellationToken cancellationToken)
    {
        if (command.Length == 0)
        {
            _console.MarkupLine("[grey]Usage: !command — runs it in the working folder.[/]");
            return;
        }

        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using (_interrupts.Arm(run))
        {
            ShellResult result;
            try
            {
                result = await _setup.Shell.RunAsync(command, TimeSpan.FromMinutes(10), run.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _console.MarkupLine("[yellow]Stopped.[/]");
                return;
            }
            catch (ToolException ex)
            {
                _console.MarkupLineInterpolated($"[red]{ex.Message}[/]");
                return;
            }

            _console.Write(new Text(result.Describe() + "\n"));
            _console.Markup("[grey]Add this output to the conversation? (y/N)[/] ");
            var key = await _console.Input.ReadKeyAsync(intercept: true, run.Token);
            var yes = key is { } k && char.ToLowerInvariant(k.KeyChar) == 'y';
            _console.WriteLine(yes ? "yes" : "no");
            if (yes)
            {
                _pendingContext.Add($"I ran `{command}` in the working folder; its output:\n```\n{result.Describe()}\n```");
                _console.MarkupLine("[grey]It will be sent with your next message.[/]");
            }
        }
    }

    private ChatTarget Target() => new(_conversation.Role, _conversation.Provider, _conversation.Model, _conversation.Temperature, _conversation.Id);

    private string SystemPrompt()
    {
        var selection = _setup.Config.ForRole(_conversation.Role);
        var prompt = selection.SystemPrompt ?? RolePrompts.For(_conversation.Role);
        return $"{prompt}\n\nThe working folder is {_setup.Directory}; tool paths are relative to it.";
    }

    private Conversation NewConversation(string role, string? provider = null, string? model = null)
    {
        var selection = _setup.Config.ForRole(role);
        var chosenProvider = provider ?? selection.Provider
            ?? throw new ConfigException($"no provider selected: set \"provider\" in {_setup.Config.DisplayPath} or pass --provider (see 'ally providers').");
        var entry = _setup.Registry.Get(chosenProvider);

        // A role's model belongs to the role's provider: a provider chosen on the command line uses its own default.
        return new Conversation(Sessions.SessionStore.NewId(), _setup.TimeProvider.GetUtcNow(), _setup.Directory)
        {
            Role = role,
            Provider = entry.Name,
            Model = model ?? (provider is null ? selection.Model : null) ?? _setup.DefaultModel(entry.Name),
            Temperature = selection.Temperature,
        };
    }

    private void Save()
    {
        if (_conversation.Messages.Count == 0)
        {
            return;
        }

        try
        {
            _setup.Sessions.Save(_conversation);
        }
#pragma warning disable CA1031 // a full disk must not end the chat; the user is told
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogSaveFailed(_setup.Logger, ex);
            _console.MarkupLineInterpolated($"[red]The session could not be saved: {ex.Message}[/]");
        }
    }

    private void ShowError(string message, Exception exception)
    {
        LogTurnFailed(_setup.Logger, _conversation.Provider, exception);
        _console.MarkupLineInterpolated($"[red]{message}[/]");
        if (_setup.LogDirectory is { } logs)
        {
            _console.MarkupLineInterpolated($"[grey]Details are in the log under {logs}.[/]");
        }
    }

    private void ShowTurnLine(TurnResult result)
    {
        var model = result.LastResponse.ModelId ?? _conversation.Model ?? _setup.DefaultModel(_conversation.Provider) ?? "default model";
        var usage = result.Usage;
        var tokens = usage?.InputTokenCount is null && usage?.OutputTokenCount is null
            ? "tokens unknown"
            : $"{usage!.InputTokenCount ?? 0:N0} in / {usage.OutputTokenCount ?? 0:N0} out tokens";
        var tools = result.ToolCalls > 0 ? $" · {result.ToolCalls} tool call{(result.ToolCalls == 1 ? string.Empty : "s")}" : string.Empty;
        _console.Write(new Text($"{_conversation.Provider} · {model} · {tokens} · {CostReader.Format(result.CostUsd)}{tools}\n", new Style(Color.Grey, decoration: Decoration.Dim)));
    }

    private void ShowBanner()
    {
        var model = _conversation.Model ?? _setup.DefaultModel(_conversation.Provider) ?? "default model";
        _console.MarkupLineInterpolated($"[bold]Ally[/] [grey]· {_conversation.Role} · {_conversation.Provider} · {model} · session {_conversation.Id} · {_setup.Directory}[/]");
        _console.MarkupLine("[grey]/help lists the commands · Ctrl+C stops an answer · Ctrl+D or /exit leaves · end a line with \\ to continue it[/]");
    }

    private string PromptMarkup() => _project switch
    {
        ProjectStage.Brainstorming => "[bold magenta]spec ›[/] ",
        _ => $"[bold green]{Markup.Escape(_conversation.Role)} ›[/] ",
    };

    private void ShowHistory(Conversation conversation)
    {
        _console.MarkupLineInterpolated($"[grey]Resuming session {conversation.Id} ({conversation.Turns} turns, started {conversation.StartedAt:yyyy-MM-dd HH:mm} UTC):[/]");
        var writer = new MarkdownStreamWriter(_console);
        foreach (var message in conversation.Messages)
        {
            if (message.Role == ChatRole.User)
            {
                _console.Write(new Text("› " + message.Text + "\n", new Style(decoration: Decoration.Bold)));
            }
            else if (message.Role == ChatRole.Assistant)
            {
                if (message.Text is { Length: > 0 } text)
                {
                    writer.Write(text);
                    writer.Complete();
                }

                foreach (var call in message.Contents.OfType<FunctionCallContent>())
                {
                    _console.Write(new Text("⚙ " + ToolCallFormatter.Describe(call) + "\n", new Style(Color.Grey)));
                }
            }
        }

        _console.Write(new Rule().RuleStyle(new Style(Color.Grey)));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "a turn with {Provider} failed")]
    private static partial void LogTurnFailed(ILogger logger, string provider, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "the session could not be saved")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception);
}
