using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Speaks Anthropic's Messages API (<c>POST /v1/messages</c>, <c>GET /v1/models</c>).</summary>
/// <remarks>
/// The request shape is built by <see cref="AnthropicRequestBuilder"/>, answers are read by
/// <see cref="AnthropicResponseParser"/> and <see cref="AnthropicStreamParser"/>, and failures become
/// <see cref="ProviderException"/>s through <see cref="AnthropicErrors"/>. The key travels only in the
/// <c>x-api-key</c> header, so no URL ever holds it.
/// </remarks>
internal sealed class AnthropicChatClient : IChatClient, IModelLister
{
    private const string DefaultVersion = "2023-06-01";
    private const int MaxModelPages = 50;
    private static readonly Uri DefaultBaseUrl = new("https://api.anthropic.com");

    private readonly ProviderSettings _settings;
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly Uri _messagesUri;
    private readonly string _modelsUri;
    private readonly ChatClientMetadata _metadata;

    public AnthropicChatClient(ProviderSettings settings)
        : this(settings, TimeProvider.System)
    {
    }

    public AnthropicChatClient(ProviderSettings settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _timeProvider = timeProvider;
        _http = settings.HttpClient ?? SharedHttp.Client;

        // The base URL is the API root without a version (https://api.anthropic.com); one that already ends in /v1
        // (a common way to write proxy URLs) is accepted too rather than becoming /v1/v1.
        var root = (settings.BaseUrl ?? DefaultBaseUrl).GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (!root.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            root += "/v1";
        }

        _messagesUri = new Uri(root + "/messages");
        _modelsUri = root + "/models";
        _metadata = new ChatClientMetadata(settings.Name, settings.BaseUrl, settings.Model);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = AnthropicRequestBuilder.Build(messages, options, _settings, stream: false);

        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var httpRequest = CreateRequest(HttpMethod.Post, _messagesUri, request.Body, stream: false);
            using var response = await _http.SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw await AnthropicErrors.FromResponseAsync(response, _settings.Name, _settings.ApiKey, _timeProvider.GetUtcNow(), linked.Token);
            }

            var body = await response.Content.ReadAsStringAsync(linked.Token);
            var root = ParseBody(body);
            return AnthropicResponseParser.Parse(root, request.StructuredOutput, _timeProvider.GetUtcNow());
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimeoutError(ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, ex, afterFirstPiece: false, partialText: null);
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = AnthropicRequestBuilder.Build(messages, options, _settings, stream: true);

        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var response = await SendStreamingAsync(request, linked.Token, cancellationToken);

        // The total timeout bounds the wait for the headers only: a streamed answer may run longer than any fixed
        // bound, and the router watches idle time between pieces.
        timeout.CancelAfter(Timeout.InfiniteTimeSpan);

        if (response.Content.Headers.ContentType?.MediaType is { } mediaType && mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            // A proxy (or an error path) may answer a streamed request with one JSON document.
            var whole = AnthropicResponseParser.Parse(ParseBody(await ReadBodyAsync(response, cancellationToken)), request.StructuredOutput, _timeProvider.GetUtcNow());
            foreach (var update in whole.ToChatResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        var parser = new AnthropicStreamParser(request.StructuredOutput, _timeProvider.GetUtcNow());
        Stream stream;
        try
        {
            stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, ex, afterFirstPiece: false, partialText: null);
        }

        await using var events = SseReader.ReadAsync(stream, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            bool moved;
            try
            {
                moved = await events.MoveNextAsync();
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw HttpErrorClassifier.FromTransport(_settings.Name, ex, parser.HasContent, parser.PartialText);
            }

            if (!moved)
            {
                break;
            }

            var updates = parser.Process(events.Current);
            if (parser.Error is { } error)
            {
                throw AnthropicErrors.FromEvent(error, _settings.Name, _settings.ApiKey, parser.HasContent, parser.PartialText);
            }

            foreach (var update in updates)
            {
                yield return update;
            }

            if (parser.Completed)
            {
                yield break;
            }
        }

        // The stream closed without message_stop: the caller must learn the answer is incomplete.
        throw parser.HasContent
            ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {_settings.Name} broke off before message_stop.", _settings.Name)
            {
                PartialText = parser.PartialText,
            }
            : new ProviderException(ProviderErrorKind.ServerError, $"The stream from {_settings.Name} ended before the answer began.", _settings.Name);
    }

    public async Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        var models = new List<ProviderModel>();
        string? after = null;
        for (var page = 0; page < MaxModelPages; page++)
        {
            var uri = new Uri(_modelsUri + "?limit=1000" + (after is null ? string.Empty : "&after_id=" + Uri.EscapeDataString(after)));
            var root = await GetJsonAsync(uri, cancellationToken);
            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in data.EnumerateArray())
                {
                    if (AnthropicResponseParser.GetString(item, "id") is not { Length: > 0 } id)
                    {
                        continue;
                    }

                    models.Add(new ProviderModel(id)
                    {
                        DisplayName = AnthropicResponseParser.GetString(item, "display_name"),
                        ContextWindow = ReadInt(item, "max_input_tokens"),
                        MaxOutputTokens = ReadInt(item, "max_tokens"),
                    });
                }
            }

            // Paged by cursor: has_more with last_id, passed back as after_id. A cursor that does not move would loop.
            var hasMore = root.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True;
            var lastId = AnthropicResponseParser.GetString(root, "last_id");
            if (!hasMore || lastId is null || lastId == after)
            {
                break;
            }

            after = lastId;
        }

        return models;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        ChatClientServices.Get(this, _metadata, serviceType, serviceKey);

    public void Dispose()
    {
        // The HttpClient belongs to the host (or is the shared pool); there is nothing of our own to release.
    }

    private async Task<HttpResponseMessage> SendStreamingAsync(AnthropicRequest request, CancellationToken linkedToken, CancellationToken cancellationToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            using var httpRequest = CreateRequest(HttpMethod.Post, _messagesUri, request.Body, stream: true);
            response = await _http.SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, linkedToken);
            if (!response.IsSuccessStatusCode)
            {
                throw await AnthropicErrors.FromResponseAsync(response, _settings.Name, _settings.ApiKey, _timeProvider.GetUtcNow(), linkedToken);
            }

            return response;
        }
        catch (Exception ex)
        {
            response?.Dispose();
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw TimeoutError(ex);
            }

            if (ex is HttpRequestException or IOException)
            {
                throw HttpErrorClassifier.FromTransport(_settings.Name, ex, afterFirstPiece: false, partialText: null);
            }

            throw;
        }
    }

    private async Task<JsonElement> GetJsonAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var httpRequest = CreateRequest(HttpMethod.Get, uri, body: null, stream: false);
            using var response = await _http.SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw await AnthropicErrors.FromResponseAsync(response, _settings.Name, _settings.ApiKey, _timeProvider.GetUtcNow(), linked.Token);
            }

            return ParseBody(await response.Content.ReadAsStringAsync(linked.Token));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimeoutError(ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, ex, afterFirstPiece: false, partialText: null);
        }
    }

    private async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, ex, afterFirstPiece: false, partialText: null);
        }
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, JsonObject? body, bool stream)
    {
        var request = new HttpRequestMessage(method, uri);
        if (!string.IsNullOrEmpty(_settings.ApiKey))
        {
            request.Headers.TryAddWithoutValidation("x-api-key", _settings.ApiKey);
        }

        request.Headers.TryAddWithoutValidation("anthropic-version", _settings.GetValue("anthropic_version") ?? DefaultVersion);
        if (_settings.GetValue("anthropic_beta") is { } beta)
        {
            request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Parses a 200 body; an error object or unreadable JSON in it is still a failure.</summary>
    private JsonElement ParseBody(string body)
    {
        JsonElement root;
        try
        {
            root = JsonElement.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new ProviderException(ProviderErrorKind.ServerError, $"{_settings.Name} sent a response that is not valid JSON.", _settings.Name, innerException: ex);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ProviderException(ProviderErrorKind.ServerError, $"{_settings.Name} sent a response that is not a JSON object.", _settings.Name);
        }

        if (AnthropicResponseParser.GetString(root, "type") == "error" && root.TryGetProperty("error", out var error))
        {
            throw AnthropicErrors.FromEvent(error, _settings.Name, _settings.ApiKey, hasContent: false, partialText: string.Empty);
        }

        return root;
    }

    private CancellationTokenSource CreateTimeout() =>
        _settings.Timeout > TimeSpan.Zero && _settings.Timeout != Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource(_settings.Timeout, _timeProvider)
            : new CancellationTokenSource();

    private ProviderException TimeoutError(Exception ex) =>
        new(ProviderErrorKind.Timeout, $"{_settings.Name} did not answer within {_settings.Timeout.TotalSeconds:0.#} s.", _settings.Name, innerException: ex);

    private static int? ReadInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
