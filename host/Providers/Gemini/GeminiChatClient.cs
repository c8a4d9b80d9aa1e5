using Ally.Abstractions;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Gemini;

// Placeholder until the Gemini protocol lands (issue 3); replaced wholesale by the real client.
internal sealed class GeminiChatClient : IChatClient
{
    private readonly ProviderSettings _settings;

    public GeminiChatClient(ProviderSettings settings)
    {
        _settings = settings;
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new ProviderException(ProviderErrorKind.Unknown, "The Gemini protocol is not implemented yet.", _settings.Name);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new ProviderException(ProviderErrorKind.Unknown, "The Gemini protocol is not implemented yet.", _settings.Name);

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
