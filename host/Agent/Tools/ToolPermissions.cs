using Microsoft.Extensions.AI;

namespace Ally.Host.Agent.Tools;

/// <summary>
/// Decides whether each tool call runs: tools allowed by config.json or <c>--allow-all-tools</c> run; otherwise the
/// user is asked, and the session remembers "always" answers. Without a prompter (no terminal) a call that would
/// ask is denied, and any failure of the prompt denies too: a tool never runs by accident.
/// </summary>
internal sealed class ToolPermissions
{
    private readonly HashSet<string> _configured;
    private readonly HashSet<string> _sessionAllowed = new(StringComparer.Ordinal);
    private readonly IToolPrompter? _prompter;

    public ToolPermissions(IEnumerable<string> allowed, bool allowAll, IToolPrompter? prompter)
    {
        _configured = new HashSet<string>(allowed, StringComparer.Ordinal);
        AllowAll = allowAll;
        _prompter = prompter;
    }

    /// <summary>Gets a value indicating whether every tool runs without asking (flag, or "always allow all").</summary>
    public bool AllowAll { get; private set; }

    /// <summary>Gets a value indicating whether a user can be asked.</summary>
    public bool CanAsk => _prompter is not null;

    /// <summary>Gets the tools that run without asking, from config.json and this session's answers.</summary>
    public IReadOnlyCollection<string> AllowedTools => [.. _configured.Concat(_sessionAllowed).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public bool IsPreApproved(string toolName) => AllowAll || _configured.Contains(toolName) || _sessionAllowed.Contains(toolName);

    public async Task<ToolDecision> DecideAsync(FunctionCallContent call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (IsPreApproved(call.Name))
        {
            return ToolDecision.Allow;
        }

        if (_prompter is null)
        {
            return ToolDecision.Deny(
                $"The user was not asked because Ally is running without a terminal, so the tool '{call.Name}' was not run. "
                + "Continue without it, or tell the user to allow it with --allow-all-tools or config.json tools.allow.");
        }

        PermissionAnswer answer;
        try
        {
            answer = await _prompter.AskAsync(call, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // any failure of the prompt denies: a tool never runs without a clear yes
        catch (Exception)
#pragma warning restore CA1031
        {
            return ToolDecision.Deny($"The permission prompt failed, so the tool '{call.Name}' was not run.");
        }

        switch (answer.Choice)
        {
            case PermissionChoice.AllowOnce:
                return ToolDecision.Allow;
            case PermissionChoice.AlwaysAllowTool:
                _sessionAllowed.Add(call.Name);
                return ToolDecision.Allow;
            case PermissionChoice.AlwaysAllowAll:
                AllowAll = true;
                return ToolDecision.Allow;
            default:
                var reason = string.IsNullOrWhiteSpace(answer.Reason) ? null : answer.Reason.Trim();
                return ToolDecision.Deny(reason is null
                    ? $"The user denied running the tool '{call.Name}'."
                    : $"The user denied running the tool '{call.Name}' and said: {reason}");
        }
    }
}
