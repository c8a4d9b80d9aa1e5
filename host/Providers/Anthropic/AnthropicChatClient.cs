using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Anthropic;

// Placeholder until the Anthropic protocol lands (issue 3); replaced wholesale by the real client.
internal sealed class AnthropicChatClient : IChatClient
{
    private readonly ProviderSettings _settings;

    public AnthropicChatClient(ProviderSettings settings)
    {
        _settings = settings;
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new ProviderException(ProviderErrorKind.Unknown, "The Anthropic protocol is not implemented yet.", _settings.Name);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new ProviderException(ProviderErrorKind.Unknown, "The Anthropic protocol is not implemented yet.", _settings.Name);

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
