using Ally.Host.Providers.Http;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Ally.Abstractions;
using Microsoft.Extensions.AI;
using Newtonsoft.Json.Linq;

namespace Ally.Plugins.Cohere;

/// <summary>Speaks Cohere's v2 Chat API (https://docs.cohere.com/reference/chat).</summary>
internal sealed class CohereChatClient : IChatClient, IModelLister
{
    private const int MaxModelPages = 50;

    private readonly ProviderSettings _settings;
    private readonly string? _apiKey;
    private readonly string _model;
    private readonly Uri _baseUrl;
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly ChatClientMetadata _metadata;

    public CohereChatClient(ProviderSettings settings, string? apiKey, string defaultModel, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultModel);
        ArgumentNullException.ThrowIfNull(timeProvider);

        _settings = settings;
        _apiKey = apiKey;
        _model = string.IsNullOrWhiteSpace(settings.Model) ? defaultModel : settings.Model;
        _baseUrl = settings.BaseUrl is { IsAbsoluteUri: true } baseUrl ? baseUrl : CoherePlugin.DefaultBaseUrl;
        _http = settings.HttpClient ?? CohereHttp.Client;
        _timeProvider = timeProvider;
        _metadata = new ChatClientMetadata(settings.Name, _baseUrl, _model);
    }

    private string Provider => _settings.Name;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        var model = ModelFor(options);
        var body = CohereRequestBuilder.Build(messages, options, model, _settings.Temperature, stream: false);
        return await RunWithinTimeoutAsync(
            async token =>
            {
                using var request = CreateRequest(HttpMethod.Post, "v2/chat", body, streaming: false);
                using var response = await SendAsync(request, token);
                var text = await response.Content.ReadAsStringAsync(token);
                var parsed = CohereJson.TryParseObject(text) ??
                    throw new ProviderException(ProviderErrorKind.ServerError, $"{Provider} answered with something that is not a JSON object.", Provider, (int)response.StatusCode);
                return CohereResponseParser.Parse(parsed, Provider, model, _timeProvider.GetUtcNow());
            },
            cancellationToken);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        var model = ModelFor(options);
        var body = CohereRequestBuilder.Build(messages, options, model, _settings.Temperature, stream: true);

        // The timeout bounds the wait for the response headers only; the stream itself may run as long as it runs.
        using var response = await RunWithinTimeoutAsync(
            async token =>
            {
                var request = CreateRequest(HttpMethod.Post, "v2/chat", body, streaming: true);
                try
                {
                    return await SendAsync(request, token);
                }
                finally
                {
                    request.Dispose();
                }
            },
            cancellationToken);

        Stream stream;
        try
        {
            stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            throw CohereErrors.FromTransport(Provider, exception, afterFirstPiece: false, string.Empty);
        }

        await using (stream)
        {
            var parser = new CohereStreamParser(Provider, model, _apiKey, _timeProvider.GetUtcNow());
            await using var events = SseReader.ReadAsync(stream, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (!parser.Finished)
            {
                bool hasEvent;
                try
                {
                    hasEvent = await events.MoveNextAsync();
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException)
                {
                    throw CohereErrors.FromTransport(Provider, exception, parser.EmittedAny, parser.Text);
                }

                if (!hasEvent)
                {
                    throw parser.Unterminated();
                }

                foreach (var update in parser.Handle(events.Current))
                {
                    yield return update;
                }
            }
        }
    }

    public async Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        var models = new List<ProviderModel>();
        string? pageToken = null;
        for (var page = 0; page < MaxModelPages; page++)
        {
            var path = "v1/models?endpoint=chat" + (pageToken is null ? string.Empty : "&page_token=" + Uri.EscapeDataString(pageToken));
            var body = await RunWithinTimeoutAsync(
                async token =>
                {
                    using var request = CreateRequest(HttpMethod.Get, path, body: null, streaming: false);
                    using var response = await SendAsync(request, token);
                    var text = await response.Content.ReadAsStringAsync(token);
                    return CohereJson.TryParseObject(text) ??
                        throw new ProviderException(ProviderErrorKind.ServerError, $"{Provider} listed its models in something that is not a JSON object.", Provider, (int)response.StatusCode);
                },
                cancellationToken);

            foreach (var item in (body["models"] as JArray)?.OfType<JObject>() ?? [])
            {
                if (CohereJson.String(item, "name") is { Length: > 0 } name)
                {
                    models.Add(new ProviderModel(name)
                    {
                        ContextWindow = CohereJson.Long(item, "context_length") is { } context and > 0 and <= int.MaxValue ? (int)context : null,
                        OwnedBy = "cohere",
                    });
                }
            }

            var next = CohereJson.String(body, "next_page_token");
            if (string.IsNullOrEmpty(next) || next == pageToken)
            {
                break;
            }

            pageToken = next;
        }

        return models;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);

        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        // Nothing to release: the HttpClient is the host's or the plugin's shared one.
    }

    private string ModelFor(ChatOptions? options) => options?.ModelId is { Length: > 0 } modelId ? modelId : _model;

    private HttpRequestMessage CreateRequest(HttpMethod method, string relativePath, JObject? body, bool streaming)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseUrl.AbsoluteUri.TrimEnd('/') + "/" + relativePath));
        if (!string.IsNullOrEmpty(_apiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(streaming ? "text/event-stream" : "application/json"));
        request.Headers.TryAddWithoutValidation("X-Client-Name", "ally");
        if (body is not null)
        {
            request.Content = new StringContent(CohereJson.Serialize(body), Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Sends a request and returns a successful response, or throws the classified failure.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await CohereErrors.FromResponseAsync(response, Provider, _apiKey, _timeProvider.GetUtcNow(), cancellationToken);
        }
    }

    /// <summary>Runs one HTTP exchange within <see cref="ProviderSettings.Timeout"/>, classifying transport failures.</summary>
    private async Task<T> RunWithinTimeoutAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var limit = _settings.Timeout;
        using var timeout = limit > TimeSpan.Zero && limit != Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource(limit, _timeProvider)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await operation(linked.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested &&
            (timeout.IsCancellationRequested || exception.InnerException is TimeoutException))
        {
            throw new ProviderException(
                ProviderErrorKind.Timeout,
                $"{Provider} did not answer within {limit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} seconds.",
                Provider,
                innerException: exception);
        }
        catch (HttpRequestException exception)
        {
            throw CohereErrors.FromTransport(Provider, exception, afterFirstPiece: false, string.Empty);
        }
        catch (IOException exception)
        {
            throw CohereErrors.FromTransport(Provider, exception, afterFirstPiece: false, string.Empty);
        }
    }
}
