using Ally.Abstractions;
using Ally.Host.Providers.Anthropic;
using Ally.Host.Providers.Gemini;
using Ally.Host.Providers.Ollama;
using Ally.Host.Providers.OpenAI;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers;

/// <summary>Creates the chat client that speaks a protocol.</summary>
/// <remarks>
/// The settings are complete when they arrive here: <see cref="ProviderSettings.BaseUrl"/> and
/// <see cref="ProviderSettings.Model"/> are filled from the provider's defaults when config.json is silent.
/// </remarks>
internal static class ProtocolClientFactory
{
    public static IChatClient Create(ProviderProtocol protocol, ProviderSettings settings) => protocol switch
    {
        ProviderProtocol.OpenAI => new OpenAIChatClient(settings, azure: false),
        ProviderProtocol.AzureOpenAI => new OpenAIChatClient(settings, azure: true),
        ProviderProtocol.Anthropic => new AnthropicChatClient(settings),
        ProviderProtocol.Gemini => new GeminiChatClient(settings),
        ProviderProtocol.Ollama => new OllamaChatClient(settings),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Unknown protocol."),
    };
}
