using System.Net.Http.Headers;
using Ally.Abstractions;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Knows where an OpenAI-compatible or Azure OpenAI server lives and how it wants to be authenticated.</summary>
internal sealed class OpenAIEndpoint
{
    /// <summary>The Azure OpenAI GA API version used when config.json names none.</summary>
    public const string DefaultAzureApiVersion = "2024-10-21";

    private static readonly Uri OpenAIDefaultBaseUrl = new("https://api.openai.com/v1");

    private readonly ProviderSettings _settings;
    private readonly bool _azure;
    private readonly Uri _baseUrl;
    private Uri? _chatCompletionsUri;
    private string? _authorization;

    public OpenAIEndpoint(ProviderSettings settings, bool azure)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _azure = azure;
        _baseUrl = settings.BaseUrl ?? (azure
            ? throw new ArgumentException($"Provider '{settings.Name}' uses Azure OpenAI and needs a base URL (https://NAME.openai.azure.com).", nameof(settings))
            : OpenAIDefaultBaseUrl);
    }

    /// <summary>Gets whether the server speaks the Azure OpenAI flavour (deployments in the path, <c>api-key</c> header).</summary>
    public bool IsAzure => _azure;

    /// <summary>
    /// Gets whether the server is OpenAI's own (or Azure's): those want <c>max_completion_tokens</c>, which the
    /// o-series and gpt-5 models require, while most OpenAI-compatible servers only know <c>max_tokens</c>.
    /// </summary>
    public bool IsOpenAIProper =>
        _azure ||
        string.Equals(_settings.Name, "openai", StringComparison.OrdinalIgnoreCase) ||
        string.Equals(_settings.Name, "azure", StringComparison.OrdinalIgnoreCase);

    private string ApiVersion => _settings.GetValue("api_version") ?? DefaultAzureApiVersion;

    /// <summary>Gets the deployment (Azure) or model name a request goes to.</summary>
    public string? ResolveModel(string? requestedModel) =>
        _azure
            ? _settings.GetValue("deployment") ?? requestedModel ?? _settings.Model
            : requestedModel ?? _settings.Model;

    public Uri ChatCompletionsUri(string? model)
    {
        if (!_azure)
        {
            // The same for every call; racing threads build equal values.
            return _chatCompletionsUri ??= Join("chat/completions", query: null);
        }

        if (string.IsNullOrEmpty(model))
        {
            throw new ProviderException(
                ProviderErrorKind.InvalidRequest,
                $"Provider '{_settings.Name}' uses Azure OpenAI and needs a deployment: set 'deployment' or 'model' in config.json.",
                _settings.Name);
        }

        return Join($"{AzurePrefix()}deployments/{Uri.EscapeDataString(model)}/chat/completions", $"api-version={Uri.EscapeDataString(ApiVersion)}");
    }

    public Uri ModelsUri() =>
        _azure
            ? Join($"{AzurePrefix()}models", $"api-version={Uri.EscapeDataString(ApiVersion)}")
            : Join("models", query: null);

    /// <summary>Adds the authentication and identification headers this server expects.</summary>
    public void AddHeaders(HttpRequestHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (_settings.ApiKey is { Length: > 0 } key)
        {
            if (_azure)
            {
                headers.TryAddWithoutValidation("api-key", key);
            }
            else
            {
                // Built once: a header value object per call would be formatted into a new string for every request.
                headers.TryAddWithoutValidation("Authorization", _authorization ??= "Bearer " + key);
            }
        }

        if (_settings.GetValue("organization") is { } organization)
        {
            headers.TryAddWithoutValidation("OpenAI-Organization", organization);
        }

        if (_settings.GetValue("project") is { } project)
        {
            headers.TryAddWithoutValidation("OpenAI-Project", project);
        }

        // OpenRouter ranks and attributes apps by these two headers (https://openrouter.ai/docs/api-reference/overview).
        if (string.Equals(_settings.Name, "openrouter", StringComparison.OrdinalIgnoreCase))
        {
            headers.TryAddWithoutValidation("X-Title", _settings.GetValue("x_title") ?? "Ally");
            if (_settings.GetValue("http_referer") is { } referer)
            {
                headers.TryAddWithoutValidation("HTTP-Referer", referer);
            }
        }
    }

    // A resource endpoint may be given with or without the /openai segment; never write it twice.
    private string AzurePrefix() =>
        _baseUrl.AbsolutePath.TrimEnd('/').EndsWith("/openai", StringComparison.OrdinalIgnoreCase) ? string.Empty : "openai/";

    // BaseUrl carries the version path (https://api.openai.com/v1), with or without a trailing slash; Uri's own
    // relative resolution would drop "v1" when the slash is missing, so the path is joined by hand.
    private Uri Join(string relative, string? query)
    {
        var builder = new UriBuilder(_baseUrl);
        builder.Path = builder.Path.TrimEnd('/') + "/" + relative;
        var existing = builder.Query.TrimStart('?');
        builder.Query = (existing.Length, query) switch
        {
            (0, null) => string.Empty,
            (0, _) => query,
            (_, null) => existing,
            _ => existing + "&" + query,
        };
        return builder.Uri;
    }
}
