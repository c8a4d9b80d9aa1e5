using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Gemini;

/// <summary>Speaks the Gemini API (<c>generateContent</c>, <c>streamGenerateContent?alt=sse</c>, <c>models</c>).</summary>
/// <remarks>
/// The key travels only in the <c>x-goog-api-key</c> header: a <c>?key=</c> URL ends up in exception messages and logs
/// (PROVIDER-QUIRKS.md). The base URL has no version path; <c>/v1beta</c> is added unless it already ends in a version.
/// </remarks>
internal sealed class GeminiChatClient : IChatClient, IModelLister
{
    private static readonly Uri DefaultBaseUrl = new("https://generativelanguage.googleapis.com/");

    private readonly ProviderSettings _settings;
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly string _apiRoot;
    private readonly ChatClientMetadata _metadata;

    public GeminiChatClient(ProviderSettings settings)
        : this(settings, TimeProvider.System)
    {
    }

    internal GeminiChatClient(ProviderSettings settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _timeProvider = timeProvider;
        _http = settings.HttpClient ?? SharedHttp.Client;
        _apiRoot = ApiRoot(settings.BaseUrl ?? DefaultBaseUrl);
        _metadata = new ChatClientMetadata(settings.Name, settings.BaseUrl ?? DefaultBaseUrl, settings.Model);
    }

    private string Provider => _settings.Name;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = ResolveModel(options);
        var body = GeminiRequestBuilder.Build(messages, options, _settings);

        using var timeout = NewTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = NewRequest(HttpMethod.Post, ModelUrl(model, "generateContent"), body);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            var text = await response.Content.ReadAsStringAsync(linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw HttpError(response, text);
            }

            if (GeminiJson.TryParse(text) is not JsonObject root)
            {
                throw new ProviderException(ProviderErrorKind.ServerError, $"{Provider} answered with a body that is not a JSON object.", Provider, (int)response.StatusCode);
            }

            if (GeminiJson.GetObject(root, "error") is { } error)
            {
                throw GeminiErrors.FromError(Provider, error, (int)response.StatusCode, response.Headers, Now, _settings.ApiKey);
            }

            return GeminiResponseParser.Parse(root, Provider, model, Now);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(exception);
        }
        catch (HttpRequestException exception)
        {
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = ResolveModel(options);
        var body = GeminiRequestBuilder.Build(messages, options, _settings);

        using var timeout = NewTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var response = await SendStreamingAsync(ModelUrl(model, "streamGenerateContent") + "?alt=sse", body, linked.Token, cancellationToken);

        // The settings' timeout bounds a stream only until its headers arrive; time to first token and idle time
        // between chunks are the router's to watch.
        timeout.CancelAfter(Timeout.InfiniteTimeSpan);

        Stream stream;
        try
        {
            stream = await response.Content.ReadAsStreamAsync(linked.Token);
        }
        catch (HttpRequestException exception)
        {
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }

        var state = new GeminiStreamState(Provider, model, _settings.ApiKey, Now);
        await using var events = SseReader.ReadAsync(stream, linked.Token).GetAsyncEnumerator(linked.Token);
        while (true)
        {
            try
            {
                if (!await events.MoveNextAsync())
                {
                    break;
                }
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Only a host-supplied HttpClient.Timeout can cancel here, since the own timeout is disarmed.
                throw state.Fail(TimedOut(exception));
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                throw HttpErrorClassifier.FromTransport(Provider, exception, state.HasYielded, state.PartialText);
            }

            if (state.Process(events.Current) is { } update)
            {
                yield return update;
            }
        }

        yield return state.Complete();
    }

    public async Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = NewTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var models = new List<ProviderModel>();
        var seenTokens = new HashSet<string>(StringComparer.Ordinal);
        string? pageToken = null;
        try
        {
            do
            {
                var url = _apiRoot + "models?pageSize=1000" + (pageToken is null ? string.Empty : "&pageToken=" + Uri.EscapeDataString(pageToken));
                using var request = NewRequest(HttpMethod.Get, url, body: null);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
                var text = await response.Content.ReadAsStringAsync(linked.Token);
                if (!response.IsSuccessStatusCode)
                {
                    throw HttpError(response, text);
                }

                var root = GeminiJson.TryParse(text) as JsonObject
                    ?? throw new ProviderException(ProviderErrorKind.ServerError, $"{Provider} answered the model list with a body that is not a JSON object.", Provider, (int)response.StatusCode);
                foreach (var node in GeminiJson.GetArray(root, "models") ?? [])
                {
                    if (node is JsonObject model && ToProviderModel(model) is { } providerModel)
                    {
                        models.Add(providerModel);
                    }
                }

                // A server that repeats a page token would otherwise keep this loop going forever.
                pageToken = GeminiJson.GetString(root, "nextPageToken") is { Length: > 0 } next && seenTokens.Add(next) ? next : null;
            }
            while (pageToken is not null);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut(exception);
        }
        catch (HttpRequestException exception)
        {
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }

        return models;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        ChatClientServices.Get(this, _metadata, serviceType, serviceKey);

    public void Dispose()
    {
        // The HttpClient belongs to the host or to SharedHttp.
    }

    private DateTimeOffset Now => _timeProvider.GetUtcNow();

    private ProviderException HttpError(HttpResponseMessage response, string text) =>
        HttpErrorClassifier.Redirect(Provider, (int)response.StatusCode, response.Headers, response.RequestMessage?.RequestUri) ??
        GeminiErrors.FromHttp(Provider, (int)response.StatusCode, response.ReasonPhrase, text, response.Headers, Now, _settings.ApiKey);

    private async Task<HttpResponseMessage> SendStreamingAsync(string url, JsonObject body, CancellationToken token, CancellationToken callerToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            using var request = NewRequest(HttpMethod.Post, url, body);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var text = await response.Content.ReadAsStringAsync(token);
            throw HttpError(response, text);
        }
        catch (OperationCanceledException exception) when (!callerToken.IsCancellationRequested)
        {
            response?.Dispose();
            throw TimedOut(exception);
        }
        catch (HttpRequestException exception)
        {
            response?.Dispose();
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }
        catch (ProviderException)
        {
            response?.Dispose();
            throw;
        }
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string url, JsonObject? body)
    {
        var request = new HttpRequestMessage(method, url);
        if (!string.IsNullOrEmpty(_settings.ApiKey))
        {
            request.Headers.TryAddWithoutValidation("x-goog-api-key", _settings.ApiKey);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return request;
    }

    private CancellationTokenSource NewTimeout() =>
        new(_settings.Timeout > TimeSpan.Zero ? _settings.Timeout : Timeout.InfiniteTimeSpan, _timeProvider);

    private ProviderException TimedOut(Exception exception) =>
        new(ProviderErrorKind.Timeout, $"{Provider} did not answer within {_settings.Timeout.TotalSeconds:0.#} seconds.", Provider, innerException: exception);

    private string ResolveModel(ChatOptions? options)
    {
        var model = options?.ModelId ?? _settings.Model;
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new ProviderException(ProviderErrorKind.InvalidRequest, $"No model is configured for {Provider}.", Provider);
        }

        model = model.Trim();
        return model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;
    }

    private string ModelUrl(string model, string method)
    {
        // Tuned models live under tunedModels/; everything else under models/.
        var resource = model.Contains('/', StringComparison.Ordinal) ? model : "models/" + model;
        var escaped = string.Join('/', resource.Split('/').Select(Uri.EscapeDataString));
        return _apiRoot + escaped + ":" + method;
    }

    private static string ApiRoot(Uri baseUrl)
    {
        var root = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (!root.EndsWith("/v1beta", StringComparison.OrdinalIgnoreCase) && !root.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            root += "/v1beta";
        }

        return root + "/";
    }

    private static ProviderModel? ToProviderModel(JsonObject model)
    {
        var methods = GeminiJson.GetArray(model, "supportedGenerationMethods");
        if (methods is null || !methods.Any(m => m is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>() == "generateContent"))
        {
            return null;
        }

        var name = GeminiJson.GetString(model, "name");
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        return new ProviderModel(name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name)
        {
            DisplayName = GeminiJson.GetString(model, "displayName"),
            ContextWindow = ToInt(GeminiJson.GetLong(model, "inputTokenLimit")),
            MaxOutputTokens = ToInt(GeminiJson.GetLong(model, "outputTokenLimit")),
        };
    }

    private static int? ToInt(long? value) => value is { } v ? (int)Math.Min(v, int.MaxValue) : null;
}
