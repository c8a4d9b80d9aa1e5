namespace Ally.Host.Providers;

/// <summary>The providers Ally ships: the original Ally's eight, the OpenAI-compatible services people use most, and local servers.</summary>
/// <remarks>Base URLs and key variables as each vendor documents them; the original Ally's variable names come first.</remarks>
internal static class BuiltInProviders
{
    public static IReadOnlyList<ProviderDefinition> All { get; } =
    [
        OpenAICompatible("openai", "OpenAI", "https://api.openai.com/v1", ["OPENAI_API_KEY"], "gpt-4.1-mini", ["gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-mini", "o4-mini"]) with { BaseUrlVariable = "OPENAI_BASE_URL" },
        new ProviderDefinition
        {
            Name = "anthropic",
            DisplayName = "Anthropic",
            Protocol = ProviderProtocol.Anthropic,
            BaseUrl = new Uri("https://api.anthropic.com"),
            KeyVariables = ["ANTHROPIC_API_KEY"],
            DefaultModel = "claude-sonnet-4-5",
            KnownModels = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "claude-3-5-haiku-latest"],
        },
        new ProviderDefinition
        {
            Name = "google",
            DisplayName = "Google Gemini",
            Protocol = ProviderProtocol.Gemini,
            BaseUrl = new Uri("https://generativelanguage.googleapis.com"),
            KeyVariables = ["GOOGLE_GEN_AI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"],
            DefaultModel = "gemini-2.5-flash",
            KnownModels = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash"],
            Aliases = ["gemini"],
        },
        new ProviderDefinition
        {
            Name = "ollama",
            DisplayName = "Ollama",
            Protocol = ProviderProtocol.Ollama,
            BaseUrl = new Uri("http://localhost:11434"),
            BaseUrlVariable = "OLLAMA_HOST",
            KeyVariables = ["OLLAMA_API_KEY"],
            KeyRequired = false,
            DefaultModel = "llama3.2",
            KnownModels = ["llama3.2", "qwen3", "gemma3", "mistral", "gpt-oss:20b"],
        },
        OpenAICompatible("groq", "Groq", "https://api.groq.com/openai/v1", ["GROQ_API_KEY"], "llama-3.3-70b-versatile", ["llama-3.3-70b-versatile", "llama-3.1-8b-instant", "openai/gpt-oss-120b"]),
        OpenAICompatible("cerebras", "Cerebras", "https://api.cerebras.ai/v1", ["CEREBRAS_API_KEY"], "gpt-oss-120b", ["gpt-oss-120b", "llama-3.3-70b", "qwen-3-32b"]),
        OpenAICompatible("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", ["OPENROUTER_API_KEY"], "openai/gpt-4o-mini", ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash"]),
        OpenAICompatible("github", "GitHub Models", "https://models.github.ai/inference", ["GITHUB_AI_API_KEY", "GITHUB_TOKEN"], "openai/gpt-4.1-mini", ["openai/gpt-4.1-mini", "openai/gpt-4.1", "openai/gpt-4o"]),
        OpenAICompatible("mistral", "Mistral", "https://api.mistral.ai/v1", ["MISTRAL_API_KEY"], "mistral-small-latest", ["mistral-small-latest", "mistral-large-latest", "codestral-latest"]),
        OpenAICompatible("together", "Together AI", "https://api.together.xyz/v1", ["TOGETHER_API_KEY", "TOGETHER_AI_API_KEY"], "meta-llama/Llama-3.3-70B-Instruct-Turbo", ["meta-llama/Llama-3.3-70B-Instruct-Turbo"]),
        OpenAICompatible("deepseek", "DeepSeek", "https://api.deepseek.com/v1", ["DEEPSEEK_API_KEY"], "deepseek-chat", ["deepseek-chat", "deepseek-reasoner"]),
        OpenAICompatible("xai", "xAI", "https://api.x.ai/v1", ["XAI_API_KEY", "GROK_API_KEY"], "grok-3-mini", ["grok-4", "grok-3", "grok-3-mini"]),
        OpenAICompatible("fireworks", "Fireworks AI", "https://api.fireworks.ai/inference/v1", ["FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"], "accounts/fireworks/models/llama-v3p3-70b-instruct", ["accounts/fireworks/models/llama-v3p3-70b-instruct", "accounts/fireworks/models/gpt-oss-120b"]),
        OpenAICompatible("perplexity", "Perplexity", "https://api.perplexity.ai", ["PERPLEXITY_API_KEY", "PPLX_API_KEY"], "sonar", ["sonar", "sonar-pro", "sonar-reasoning"]),
        OpenAICompatible("deepinfra", "DeepInfra", "https://api.deepinfra.com/v1/openai", ["DEEPINFRA_API_KEY", "DEEPINFRA_TOKEN"], "meta-llama/Llama-3.3-70B-Instruct", ["meta-llama/Llama-3.3-70B-Instruct"]),
        OpenAICompatible("huggingface", "Hugging Face", "https://router.huggingface.co/v1", ["HF_TOKEN", "HUGGINGFACE_API_KEY"], "meta-llama/Llama-3.1-8B-Instruct", ["meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-120b"]),
        new ProviderDefinition
        {
            Name = "azure",
            DisplayName = "Azure OpenAI",
            Protocol = ProviderProtocol.AzureOpenAI,
            BaseUrlVariable = "AZURE_OPENAI_ENDPOINT",
            KeyVariables = ["AZURE_OPENAI_API_KEY", "AZURE_API_KEY"],

            // The names Microsoft's SDKs and samples read (OPENAI_API_VERSION is the openai Python package's).
            SettingVariables = new Dictionary<string, IReadOnlyList<string>> { ["api_version"] = ["AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION"] },
            DefaultModelVariable = "AZURE_OPENAI_DEPLOYMENT",
            DefaultModel = "gpt-4.1-mini",
        },
        Local("lmstudio", "LM Studio", "http://localhost:1234/v1", "LMSTUDIO_API_KEY", defaultModel: null),
        Local("vllm", "vLLM", "http://localhost:8000/v1", "VLLM_API_KEY", defaultModel: null),
        Local("llamacpp", "llama.cpp server", "http://localhost:8080/v1", "LLAMACPP_API_KEY", defaultModel: "default"),
        Local("localai", "LocalAI", "http://localhost:8080/v1", "LOCALAI_API_KEY", defaultModel: null),
    ];

    private static ProviderDefinition OpenAICompatible(string name, string display, string baseUrl, IReadOnlyList<string> keys, string model, IReadOnlyList<string> known) => new()
    {
        Name = name,
        DisplayName = display,
        Protocol = ProviderProtocol.OpenAI,
        BaseUrl = new Uri(baseUrl),
        KeyVariables = keys,
        DefaultModel = model,
        KnownModels = known,
    };

    private static ProviderDefinition Local(string name, string display, string baseUrl, string keyVariable, string? defaultModel) => new()
    {
        Name = name,
        DisplayName = display,
        Protocol = ProviderProtocol.OpenAI,
        BaseUrl = new Uri(baseUrl),
        KeyVariables = [keyVariable],
        KeyRequired = false,
        DefaultModel = defaultModel,
    };
}
