using Ally.Host.Agent.Tools;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Fakes;

/// <summary>Answers permission prompts from a queue, recording each call it was asked about.</summary>
internal sealed class ScriptedPrompter(params PermissionAnswer[] answers) : IToolPrompter
{
    private readonly Queue<PermissionAnswer> _answers = new(answers);

    public List<string> Asked { get; } = [];

    public Exception? Throw { get; init; }

    public Task<PermissionAnswer> AskAsync(FunctionCallContent call, CancellationToken cancellationToken = default)
    {
        Asked.Add(call.Name);
        if (Throw is not null)
        {
            throw Throw;
        }

        return Task.FromResult(_answers.Dequeue());
    }
}
