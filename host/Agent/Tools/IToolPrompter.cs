using Microsoft.Extensions.AI;

namespace Ally.Host.Agent.Tools;

/// <summary>Asks the user whether a tool call may run.</summary>
internal interface IToolPrompter
{
    Task<PermissionAnswer> AskAsync(FunctionCallContent call, CancellationToken cancellationToken = default);
}
