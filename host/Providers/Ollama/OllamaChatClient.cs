using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Ally.Abstractions;
using Ally.Host.Providers.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Ollama;

/// <summary>Speaks Ollama's native API: <c>POST /api/chat</c> (JSON or NDJSON stream) and <c>GET /api/tags</c>.</summary>
/// <remarks>
/// Wire format: https://github.com/ollama/ollama/blob/main/docs/api.md. Quirks handled here are listed in
/// PROVIDER-QUIRKS.md: NDJSON rather than SSE, usage only on the <c>done: true</c> object, tool calls without ids,
/// <c>{"error": "..."}</c> lines inside an HTTP 200 stream, and 9-digit fractional seconds.
/// </remarks>
internal sealed class OllamaChatClient : IChatClient, IModelLister
{
    /// <summary>The port <c>ollama serve</c> listens on unless told otherwise.</summary>
    public const int DefaultPort = 11434;

    private readonly ProviderSettings _settings;
    private readonly HttpClient _http;
    private readonly TimeProvider _timeProvider;
    private readonly Uri _apiRoot;
    private readonly ChatClientMetadata _metadata;

    public OllamaChatClient(ProviderSettings settings)
        : this(settings, TimeProvider.System)
    {
    }

    internal OllamaChatClient(ProviderSettings settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _timeProvider = timeProvider;
        _http = settings.HttpClient ?? SharedHttp.Client;
        var baseUrl = settings.BaseUrl ?? new Uri($"http://localhost:{DefaultPort}/");
        _apiRoot = ApiRoot(baseUrl);
        _metadata = new ChatClientMetadata(settings.Name, settings.BaseUrl, settings.Model);
    }

    /// <summary>
    /// Turns an <c>OLLAMA_HOST</c> value into a base URL the way the <c>ollama</c> CLI reads it: <c>localhost</c>,
    /// <c>0.0.0.0:11434</c>, <c>http://host:port</c>, <c>https://host/prefix</c>.
    /// </summary>
    /// <remarks>
    /// Without a scheme the value gets <c>http://</c> and port 11434; with an explicit scheme but no port the
    /// scheme's own port applies (80 or 443), as in Ollama's envconfig.Host. 0.0.0.0 and :: are listen-on-all
    /// addresses for the server; a client connects to localhost instead.
    /// </remarks>
    /// <exception cref="ArgumentException">The value is not a host.</exception>
    internal static Uri NormalizeHost(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        var scheme = "http";
        var defaultPort = DefaultPort;
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            scheme = text[..schemeEnd].ToLowerInvariant();
            text = text[(schemeEnd + 3)..];
            defaultPort = scheme == "https" ? 443 : 80;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var path = slash >= 0 ? text[slash..] : "/";
        var hostPort = slash >= 0 ? text[..slash] : text;

        string host;
        string? portText = null;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            host = close > 0 ? hostPort[1..close] : hostPort.Trim('[', ']');
            if (close > 0 && close + 1 < hostPort.Length && hostPort[close + 1] == ':')
            {
                portText = hostPort[(close + 2)..];
            }
        }
        else if (hostPort.Count(c => c == ':') == 1)
        {
            var colon = hostPort.IndexOf(':', StringComparison.Ordinal);
            host = hostPort[..colon];
            portText = hostPort[(colon + 1)..];
        }
        else
        {
            // No port, or a bare IPv6 address.
            host = hostPort;
        }

        if (host.Length == 0 || host is "0.0.0.0" or "::" or "::0")
        {
            host = "localhost";
        }

        var port = int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is > 0 and <= 65535
            ? parsed
            : defaultPort;

        try
        {
            return new UriBuilder(scheme, host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host, port, path).Uri;
        }
        catch (UriFormatException exception)
        {
            throw new ArgumentException($"OLLAMA_HOST '{value}' is not a host, host:port or URL.", nameof(value), exception);
        }
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var body = OllamaRequestBuilder.Build(messages, options, _settings, stream: false).ToJsonString();

        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await SendAsync(HttpMethod.Post, "chat", body, linked.Token);
            var text = await response.Content.ReadAsStringAsync(linked.Token);
            using var document = ParseBody(text);
            var root = document.RootElement;
            if (OllamaResponseParser.ReadError(root) is { } error)
            {
                // An error object with HTTP 200 is the model failing, not the request being wrong.
                throw InBandError(error, afterFirstPiece: false, partialText: null);
            }

            return OllamaResponseParser.ParseResponse(root.Clone(), NewCallId);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimeoutError(exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, exception, afterFirstPiece: false, partialText: null);
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var body = OllamaRequestBuilder.Build(messages, options, _settings, stream: true).ToJsonString();

        using var response = await OpenStreamAsync(body, cancellationToken);
        using var reader = new StreamReader(
            await response.Content.ReadAsStreamAsync(cancellationToken),
            Encoding.UTF8,
            detectEncodingFromByteOrderMarks: false,
            bufferSize: 4096,
            leaveOpen: false);

        // Ollama has no response id; one per call lets consumers group the updates into one message.
        var responseId = Guid.NewGuid().ToString("N");
        var partialText = new StringBuilder();
        var yielded = false;
        var sawToolCalls = false;

        while (await ReadLineAsync(reader, yielded, partialText, cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonElement root;
            try
            {
                using var document = JsonDocument.Parse(line);
                root = document.RootElement.Clone();
            }
            catch (JsonException exception)
            {
                throw InBandError($"the stream carried a line that is not JSON ({exception.Message})", yielded, partialText.ToString());
            }

            if (OllamaResponseParser.ReadError(root) is { } error)
            {
                throw InBandError(error, yielded, partialText.ToString());
            }

            var contents = OllamaResponseParser.ReadContents(root, NewCallId);
            var done = OllamaResponseParser.ReadDone(root);
            sawToolCalls |= contents.Any(c => c is FunctionCallContent);
            if (done && OllamaResponseParser.ReadUsage(root) is { } usage)
            {
                contents.Add(new UsageContent(usage));
            }

            if (contents.Count == 0 && !done)
            {
                continue;
            }

            foreach (var text in contents.OfType<TextContent>())
            {
                partialText.Append(text.Text);
            }

            yielded = true;
            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = OllamaResponseParser.ReadString(root, "model"),
                CreatedAt = OllamaResponseParser.ParseTimestamp(OllamaResponseParser.ReadString(root, "created_at")),
                FinishReason = done ? OllamaResponseParser.MapFinishReason(OllamaResponseParser.ReadString(root, "done_reason"), sawToolCalls) : null,
                RawRepresentation = root,
            };

            if (done)
            {
                yield break;
            }
        }

        throw InBandError("the stream ended before its final done:true line", yielded, partialText.ToString());
    }

    public async Task<IReadOnlyList<ProviderModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await SendAsync(HttpMethod.Get, "tags", body: null, linked.Token);
            var text = await response.Content.ReadAsStringAsync(linked.Token);
            using var document = ParseBody(text);
            var models = new List<ProviderModel>();
            if (document.RootElement.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var model in list.EnumerateArray())
                {
                    var id = OllamaResponseParser.ReadString(model, "model") ?? OllamaResponseParser.ReadString(model, "name");
                    if (!string.IsNullOrEmpty(id))
                    {
                        models.Add(new ProviderModel(id) { DisplayName = DisplayName(model, id) });
                    }
                }
            }

            return models;
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimeoutError(exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, exception, afterFirstPiece: false, partialText: null);
        }
    }

    /// <summary>Asks the server for its version (<c>GET /api/version</c>): a cheap health check that loads no model.</summary>
    internal async Task<string?> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await SendAsync(HttpMethod.Get, "version", body: null, linked.Token);
            using var document = ParseBody(await response.Content.ReadAsStringAsync(linked.Token));
            return OllamaResponseParser.ReadString(document.RootElement, "version");
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimeoutError(exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, exception, afterFirstPiece: false, partialText: null);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        ChatClientServices.Get(this, _metadata, serviceType, serviceKey);

    public void Dispose()
    {
        // The HttpClient belongs to the host (or is the shared one); nothing else is held.
    }

    private static Uri ApiRoot(Uri baseUrl)
    {
        var root = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');

        // Accept a base URL that already names the API root (http://host:11434/api).
        if (!root.EndsWith("/api", StringComparison.OrdinalIgnoreCase))
        {
            root += "/api";
        }

        return new Uri(root + "/");
    }

    private static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    private static string? DisplayName(JsonElement model, string id)
    {
        var name = OllamaResponseParser.ReadString(model, "name") ?? id;
        if (!model.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Object)
        {
            return name;
        }

        var facts = new[] { "family", "parameter_size", "quantization_level" }
            .Select(field => OllamaResponseParser.ReadString(details, field))
            .Where(value => !string.IsNullOrEmpty(value))
            .ToList();
        return facts.Count > 0 ? $"{name} ({string.Join(", ", facts)})" : name;
    }

    private JsonDocument ParseBody(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException exception)
        {
            throw new ProviderException(
                ProviderErrorKind.ServerError,
                $"{_settings.Name} sent an answer that is not JSON: {exception.Message}",
                _settings.Name,
                (int)HttpStatusCode.OK,
                innerException: exception);
        }
    }

    private CancellationTokenSource CreateTimeout()
    {
        var timeout = _settings.Timeout > TimeSpan.Zero ? _settings.Timeout : Timeout.InfiniteTimeSpan;
        return new CancellationTokenSource(timeout, _timeProvider);
    }

    private async Task<HttpResponseMessage> OpenStreamAsync(string body, CancellationToken cancellationToken)
    {
        // The timeout bounds only the wait for the response headers; a long answer may stream for longer.
        using var timeout = CreateTimeout();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await SendAsync(HttpMethod.Post, "chat", body, linked.Token);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimeoutError(exception);
        }
    }

    /// <summary>Sends one request and returns the response once its headers are in, or throws the classified error.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_apiRoot, path));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        request.Headers.Accept.ParseAdd(body is null ? "application/json" : "application/x-ndjson, application/json");

        // Ollama itself needs no key; one is set when it sits behind an authenticating proxy or is ollama.com.
        if (!string.IsNullOrEmpty(_settings.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _settings.ApiKey);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException exception) when (exception.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError ||
                                                        exception.InnerException is SocketException)
        {
            throw new ProviderException(
                ProviderErrorKind.Network,
                $"Ollama is not reachable at {DisplayUrl()} ({Redact(exception.Message)}). Start it with `ollama serve`, or set OLLAMA_HOST (or the provider's base URL) to where it listens.",
                _settings.Name,
                innerException: exception);
        }
        catch (HttpRequestException exception)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, exception, afterFirstPiece: false, partialText: null);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await HttpErrorAsync(response, cancellationToken);
        }
    }

    private async Task<ProviderException> HttpErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (HttpErrorClassifier.Redirect(_settings.Name, status, response.Headers, response.RequestMessage?.RequestUri) is { } moved)
        {
            return moved;
        }

        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            body = string.Empty;
        }

        var message = OllamaResponseParser.ReadErrorBody(body, out var fromOllama) ?? response.ReasonPhrase ?? "no error text";
        message = Redact(message);

        // The "model not found" wording changed between Ollama versions; the status code did not.
        var kind = HttpErrorClassifier.Classify(status, code: null, message);
        var hint = kind == ProviderErrorKind.NotFound && fromOllama ? " (pull the model with `ollama pull <model>`, or pick one from `ollama list`)" : string.Empty;
        var retryAfter = RetryAfterParser.FromHeaders(response.Headers, _timeProvider.GetUtcNow()) ?? RetryAfterParser.FromMessage(message);
        return new ProviderException(
            kind,
            $"{_settings.Name} answered HTTP {status}: {message}{hint}",
            _settings.Name,
            status,
            retryAfter);
    }

    /// <summary>An error reported inside an HTTP 200 answer: classified when nothing was delivered yet, truncation otherwise.</summary>
    private ProviderException InBandError(string error, bool afterFirstPiece, string? partialText)
    {
        error = Redact(error);
        if (afterFirstPiece)
        {
            return new ProviderException(
                ProviderErrorKind.TruncatedStream,
                $"The answer from {_settings.Name} broke off: {error}",
                _settings.Name,
                (int)HttpStatusCode.OK)
            {
                PartialText = partialText,
            };
        }

        // No status says what went wrong here; read the message, and default to a server failure.
        var kind = HttpErrorClassifier.Classify((int)HttpStatusCode.InternalServerError, code: null, error);
        return new ProviderException(kind, $"{_settings.Name} failed: {error}", _settings.Name, (int)HttpStatusCode.OK);
    }

    private ProviderException TimeoutError(OperationCanceledException exception) =>
        new(
            ProviderErrorKind.Timeout,
            $"{_settings.Name} did not answer within {_settings.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s.",
            _settings.Name,
            innerException: exception);

    private async Task<string?> ReadLineAsync(StreamReader reader, bool afterFirstPiece, StringBuilder partialText, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            throw HttpErrorClassifier.FromTransport(_settings.Name, exception, afterFirstPiece, partialText.ToString());
        }
    }

    private string DisplayUrl()
    {
        // Authority leaves out any user:password@ part, and the query is dropped: neither belongs in a message.
        var baseUrl = _settings.BaseUrl ?? _apiRoot;
        return $"{baseUrl.Scheme}://{baseUrl.Authority}{baseUrl.AbsolutePath.TrimEnd('/')}";
    }

    private string Redact(string text) =>
        string.IsNullOrEmpty(_settings.ApiKey) ? text : text.Replace(_settings.ApiKey, "***", StringComparison.Ordinal);
}
