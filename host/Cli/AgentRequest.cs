namespace Ally.Host.Cli;

/// <summary>The options that shape the agent, shared by the chat and <c>ally -p</c>.</summary>
internal sealed record AgentRequest
{
    public string? Directory { get; init; }

    public string Role { get; init; } = Configuration.AllyRoles.General;

    public string? Provider { get; init; }

    public string? Model { get; init; }

    public bool AllowAllTools { get; init; }

    public bool NoTools { get; init; }

    public bool Stream { get; init; } = true;

    public string? ResumeId { get; init; }

    public bool Continue { get; init; }

    public bool CreateProject { get; init; }
}
