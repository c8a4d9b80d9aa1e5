namespace Ally.Host.Providers;

/// <summary>The wire protocols Ally speaks; config.json's <c>type</c> names one for a provider defined there.</summary>
internal enum ProviderProtocol
{
    /// <summary>OpenAI Chat Completions and the OpenAI-compatible family (<c>openai-compatible</c>).</summary>
    OpenAI,

    /// <summary>Azure OpenAI: Chat Completions on deployment URLs with an <c>api-key</c> header (<c>azure</c>).</summary>
    AzureOpenAI,

    /// <summary>Anthropic Messages (<c>anthropic-compatible</c>).</summary>
    Anthropic,

    /// <summary>Google Gemini generateContent (<c>gemini</c>).</summary>
    Gemini,

    /// <summary>Ollama's native /api/chat (<c>ollama</c>).</summary>
    Ollama,
}
