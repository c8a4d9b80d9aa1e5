using Ally.Host.Agent;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Fakes;

/// <summary>Hands out one test client for every target, recording the targets.</summary>
internal sealed class TestChatClientProvider(IChatClient client) : IChatClientProvider
{
    public List<ChatTarget> Targets { get; } = [];

    public IChatClient Create(ChatTarget target)
    {
        Targets.Add(target);
        return client;
    }
}
