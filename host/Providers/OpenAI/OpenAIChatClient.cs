using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Abstractions;
using Ally.Host.Providers.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Speaks the OpenAI Chat Completions protocol, to OpenAI, Azure OpenAI and every OpenAI-compatible server.</summary>
/// <remarks>
/// This file and the rest of the folder are also compiled into plugin assemblies, so they use nothing of the host
/// but <c>Ally.Host.Providers.Http</c>: only Ally.Abstractions, Microsoft.Extensions.AI.Abstractions and the BCL.
/// </remarks>
internal sealed class OpenAIChatClient : IChatClient, IModelLister
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly ProviderSettings _settings;
    private readonly OpenAIEndpoint _endpoint;
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly ChatClientMetadata _metadata;

    public OpenAIChatClient(ProviderSettings settings, bool azure)
        : this(settings, azure, TimeProvider.System)
    {
    }

    public OpenAIChatClient(ProviderSettings settings, bool azure, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _endpoint = new OpenAIEndpoint(settings, azure);
        _http = settings.HttpClient ?? SharedHttp.Client;
        _timeProvider = timeProvider;
        _metadata = new ChatClientMetadata(settings.Name, settings.BaseUrl, settings.Model);
    }

    private string Provider => _settings.Name;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        using var request = CreateChatRequest(messages, options, stream: false);
        using var timeout = new CancellationTokenSource(_settings.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        try
        {
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw FromResponse(response, await response.Content.ReadAsStringAsync(linked.Token));
            }

            using var document = await ParseBodyAsync(response.Content, linked.Token);
            if (OpenAIErrorParser.TryParse(document.RootElement) is { } inBand)
            {
                throw OpenAIErrorParser.FromInBand(Provider, inBand, _settings.ApiKey);
            }

            return OpenAIResponseParser.ParseCompletion(document.RootElement);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
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
        using var request = CreateChatRequest(messages, options, stream: true);
        using var response = await SendStreamingAsync(request, cancellationToken);

        // A server that ignores "stream" (or fails with 200) answers with one JSON body.
        if (response.Content.Headers.ContentType?.MediaType is "application/json")
        {
            foreach (var update in await ReadWholeBodyAsync(response, cancellationToken))
            {
                yield return update;
            }

            yield break;
        }

        var parser = new OpenAIStreamParser();
        var yieldedAny = false;
        var sawDone = false;
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var events = SseReader.ReadAsync(stream, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            SseEvent sse;
            try
            {
                if (!await events.MoveNextAsync())
                {
                    break;
                }

                sse = events.Current;
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                throw HttpErrorClassifier.FromTransport(Provider, exception, yieldedAny, parser.Text);
            }

            var data = sse.Data.Trim();
            if (data == "[DONE]")
            {
                sawDone = true;
                break;
            }

            if (data.Length == 0 || data[0] is not ('{' or '['))
            {
                continue;
            }

            using var chunk = TryParse(data);
            if (chunk is null)
            {
                continue;
            }

            if (OpenAIErrorParser.TryParse(chunk.RootElement) is { } error)
            {
                throw InBandStreamError(error, yieldedAny, parser.Text);
            }

            if (parser.Read(chunk.RootElement) is { } update)
            {
                yieldedAny = true;
                yield return update;
            }
        }

        if (!sawDone && !parser.Finished)
        {
            throw yieldedAny
                ? new ProviderException(ProviderErrorKind.TruncatedStream, $"The answer from {Provider} broke off: the stream ended without a finish reason or [DONE].", Provider, (int)response.StatusCode)
                {
                    PartialText = parser.Text,
                }
                : new ProviderException(ProviderErrorKind.ServerError, $"The stream from {Provider} ended before any answer arrived.", Provider, (int)response.StatusCode);
        }

        if (parser.Complete() is { } last)
        {
            yield return last;
        }
    }

    public async Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _endpoint.ModelsUri());
        _endpoint.AddHeaders(request.Headers);
        using var timeout = new CancellationTokenSource(_settings.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            var body = await response.Content.ReadAsStringAsync(linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw FromResponse(response, body);
            }

            using var document = ParseBody(body);
            return ParseModels(document.RootElement);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw TimedOut(exception);
        }
        catch (HttpRequestException exception)
        {
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        ChatClientServices.Get(this, _metadata, serviceType, serviceKey);

    public void Dispose()
    {
        // The HttpClient belongs to the host (or is the shared pool); there is nothing of our own to release.
    }

    private HttpRequestMessage CreateChatRequest(IEnumerable<ChatMessage> messages, ChatOptions? options, bool stream)
    {
        var model = _endpoint.ResolveModel(options?.ModelId);
        var body = new OpenAIRequestBuilder(_endpoint.IsOpenAIProper, _settings.Temperature).Build(messages, options, model, stream);
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.ChatCompletionsUri(model))
        {
            Content = Utf8Content(body),
        };
        _endpoint.AddHeaders(request.Headers);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
        return request;
    }

    /// <summary>
    /// Writes the body as UTF-8 straight from the DOM into one array of its exact size (the serializer writes through
    /// a pooled buffer), with a Content-Length: a string first would cost twice its size in UTF-16 and a copy (the
    /// gateway's allocation profile, docs/gateway-benchmark.md).
    /// </summary>
    private static ByteArrayContent Utf8Content(JsonObject body)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken) =>
        await _http.SendAsync(request, completion, cancellationToken);

    // The timeout bounds the wait for the response headers only: a streamed answer may rightly run for minutes,
    // and the router's own time-to-first-token and idle timeouts watch the rest.
    private async Task<HttpResponseMessage> SendStreamingAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_settings.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw TimedOut(exception);
        }
        catch (HttpRequestException exception)
        {
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string body;
            try
            {
                body = await response.Content.ReadAsStringAsync(linked.Token);
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
            {
                throw TimedOut(exception);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                body = string.Empty;
            }

            throw FromResponse(response, body);
        }
    }

    private async Task<List<ChatResponseUpdate>> ReadWholeBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            throw HttpErrorClassifier.FromTransport(Provider, exception, afterFirstPiece: false, partialText: null);
        }

        using var document = ParseBody(body);
        if (OpenAIErrorParser.TryParse(document.RootElement) is { } error)
        {
            throw OpenAIErrorParser.FromInBand(Provider, error, _settings.ApiKey);
        }

        var chatResponse = OpenAIResponseParser.ParseCompletion(document.RootElement);
        return [.. chatResponse.ToChatResponseUpdates()];
    }

    private ProviderException InBandStreamError(OpenAIErrorParser.ErrorInfo error, bool yieldedAny, string partialText)
    {
        var classified = OpenAIErrorParser.FromInBand(Provider, error, _settings.ApiKey);
        if (!yieldedAny)
        {
            return classified;
        }

        return new ProviderException(
            ProviderErrorKind.TruncatedStream,
            $"The answer from {Provider} broke off with an error: {classified.Message}",
            Provider,
            classified.StatusCode,
            classified.RetryAfter,
            classified)
        {
            ErrorCode = classified.ErrorCode,
            PartialText = partialText,
        };
    }

    private ProviderException FromResponse(HttpResponseMessage response, string body) =>
        HttpErrorClassifier.Redirect(Provider, (int)response.StatusCode, response.Headers, response.RequestMessage?.RequestUri) ??
        OpenAIErrorParser.FromResponse(Provider, response.StatusCode, response.ReasonPhrase, response.Headers, body, _timeProvider.GetUtcNow(), _settings.ApiKey);

    private ProviderException TimedOut(Exception exception) =>
        new(ProviderErrorKind.Timeout, $"{Provider} did not answer within {_settings.Timeout.TotalSeconds:0.###} seconds.", Provider, innerException: exception);

    /// <summary>
    /// Parses a successful answer from its UTF-8 bytes into pooled memory (a leading byte order mark is skipped); a
    /// string first would cost twice the body's size and a transcoding pass for every answer.
    /// </summary>
    private async Task<JsonDocument> ParseBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        }
        catch (JsonException exception)
        {
            throw NotJson(exception);
        }
    }

    private ProviderException NotJson(JsonException exception) =>
        new(ProviderErrorKind.ServerError, $"{Provider} sent a response that is not JSON.", Provider, innerException: exception);

    private JsonDocument ParseBody(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            throw NotJson(exception);
        }
    }

    private static JsonDocument? TryParse(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            // A malformed keep-alive or vendor comment line is not part of the answer.
            return null;
        }
    }

    private static List<ProviderModel> ParseModels(JsonElement root)
    {
        // OpenAI wraps the list in {"object":"list","data":[...]}; Together and some local servers send a bare array.
        var data = root.ValueKind == JsonValueKind.Array
            ? root
            : root.TryGetProperty("data", out var list) && list.ValueKind == JsonValueKind.Array ? list : default;
        var models = new List<ProviderModel>();
        if (data.ValueKind != JsonValueKind.Array)
        {
            return models;
        }

        foreach (var item in data.EnumerateArray())
        {
            if (OpenAIResponseParser.GetString(item, "id") is not { Length: > 0 } id)
            {
                continue;
            }

            models.Add(new ProviderModel(id)
            {
                OwnedBy = OpenAIResponseParser.GetString(item, "owned_by"),
                DisplayName = OpenAIResponseParser.GetString(item, "display_name") ?? OpenAIResponseParser.GetString(item, "name"),
                ContextWindow = GetInt(item, "context_window") ?? GetInt(item, "context_length"),
            });
        }

        return models;
    }

    private static int? GetInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
