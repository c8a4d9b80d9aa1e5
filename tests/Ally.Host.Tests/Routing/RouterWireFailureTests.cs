using System.Text.Json;
using System.Text.RegularExpressions;
using Ally.Abstractions;
using Ally.Host.Configuration;
using Ally.Host.Plugins;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using Ally.Host.Tests.Providers.Anthropic;
using Ally.Host.Tests.Providers.OpenAI;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

/// <summary>
/// The real router, built as the app builds it (config.json, the provider registry, the client cache, the router
/// factory), over the real protocol clients talking to loopback servers that fail the way the providers do: their
/// status codes, error bodies and headers, streams that break or stall. Each test counts the requests every server
/// received. Waits run on a fake clock where they would be slow, or are a few hundred milliseconds at most.
/// </summary>
public sealed partial class RouterWireFailureTests : IDisposable
{
    private const string OpenAIKey = "sk-wire-openai-0123456789";
    private const string AnthropicKey = "sk-ant-wire-0123456789";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private delegate Task Reply(HttpContext context, bool streamed);

    [Theory]
    [InlineData(false, "openai")]
    [InlineData(true, "openai")]
    [InlineData(false, "anthropic")]
    [InlineData(true, "anthropic")]
    public async Task GetResponse_BadKey_MovesOnWithoutRetry_AndTheNextCallSkipsTheProvider(bool streamed, string failing)
    {
        // Given: the failing provider answers 401 as its API does
        Reply unauthorized = failing == "openai"
            ? OpenAIError(401, "invalid_api_key", "Incorrect API key provided: sk-wire-***. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error")
            : AnthropicError(401, "authentication_error", "invalid x-api-key");
        await using var pair = await StartPairAsync(failing, [unauthorized], [Ok("Hello from the fallback")], """{ "max_retries": 2, "retry_base_delay_seconds": 0.001 }""");

        // When
        var first = await AskAsync(pair.Router, streamed, cancellationToken: Token);
        var second = await AskAsync(pair.Router, streamed, cancellationToken: Token);

        // Then: one request to the bad key, none on the next call (cooldown), and the fallback answered both
        Assert.Equal("Hello from the fallback", first.Text);
        Assert.Equal("Hello from the fallback", second.Text);
        Assert.Single(pair.Failing.Requests);
        Assert.Equal(2, pair.Fallback.Requests.Count);
        var attempt = Attempts(first)[0];
        Assert.Equal("authentication", attempt.Error);
        Assert.Equal(401, attempt.StatusCode);
        Assert.Equal("cooldown", Attempts(second)[0].Error);
        Assert.DoesNotContain(OpenAIKey, attempt.Message ?? string.Empty, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "openai")]
    [InlineData(true, "openai")]
    [InlineData(false, "anthropic")]
    [InlineData(true, "anthropic")]
    public async Task GetResponse_RateLimitWithRetryAfterUnderTheCap_WaitsThatLongOnTheClock_ThenRetriesTheSameProvider(bool streamed, string failing)
    {
        // Given: 429 with retry-after: 7 (seconds), under the 60 s cap, on a fake clock
        var time = new FakeTimeProvider();
        Reply limited = failing == "openai"
            ? OpenAIError(429, "rate_limit_exceeded", "Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", ("retry-after", "7"))
            : AnthropicError(429, "rate_limit_error", "This request would exceed the rate limit for your organization", ("retry-after", "7"));
        await using var pair = await StartPairAsync(failing, [limited, Ok("Hello after the wait")], [Ok("Hello from the fallback")], LongTimes, time);

        // When: the router waits on the fake clock, which moves only when the retry's timer is set
        var call = AskAsync(pair.Router, streamed, cancellationToken: Token);
        await WaitUntilAsync(() => pair.Failing.Requests.Count == 1 && time.NextDue is { } due && due <= TimeSpan.FromSeconds(7), Token);
        Assert.Equal(TimeSpan.FromSeconds(7), time.NextDue);
        time.Advance(TimeSpan.FromSeconds(7));
        var response = await call;

        // Then
        Assert.Equal("Hello after the wait", response.Text);
        Assert.Equal(2, pair.Failing.Requests.Count);
        Assert.Empty(pair.Fallback.Requests);
        var attempts = Attempts(response);
        Assert.Equal("rate_limit", attempts[0].Error);
        Assert.Equal(7.0, attempts[0].WaitSeconds);
        Assert.Null(attempts[1].Error);
    }

    [Theory]
    [InlineData(false, "openai")]
    [InlineData(true, "openai")]
    [InlineData(false, "anthropic")]
    [InlineData(true, "anthropic")]
    public async Task GetResponse_RateLimitWithRetryAfterAboveTheCap_MovesOnAtOnce_CoolsDownForTheRetryAfter_ThenComesBack(bool streamed, string failing)
    {
        // Given: retry-after 120 s against max_retry_wait_seconds 60 and cooldown_seconds 30, on a fake clock
        var time = new FakeTimeProvider();
        Reply limited = failing == "openai"
            ? OpenAIError(429, "rate_limit_exceeded", "Rate limit reached.", "requests", ("retry-after", "120"))
            : AnthropicError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", ("retry-after", "120"));
        await using var pair = await StartPairAsync(
            failing,
            [limited, Ok("Hello again")],
            [Ok("Hello from the fallback")],
            """{ "max_retries": 2, "max_retry_wait_seconds": 60, "cooldown_seconds": 30, "timeout_seconds": 3600, "first_token_timeout_seconds": 3600 }""",
            time);

        // When: the clock never moves during the first two calls, so any wait would hang them
        var first = await AskAsync(pair.Router, streamed, cancellationToken: Token);
        var second = await AskAsync(pair.Router, streamed, cancellationToken: Token);
        time.Advance(TimeSpan.FromSeconds(119));
        var third = await AskAsync(pair.Router, streamed, cancellationToken: Token);
        time.Advance(TimeSpan.FromSeconds(2));
        var fourth = await AskAsync(pair.Router, streamed, cancellationToken: Token);

        // Then: one 429, cooldown through 120 s (not 30), then the provider is tried again and answers
        Assert.Equal("Hello from the fallback", first.Text);
        Assert.Equal("rate_limit", Attempts(first)[0].Error);
        Assert.Null(Attempts(first)[0].WaitSeconds);
        Assert.Equal("cooldown", Attempts(second)[0].Error);
        Assert.Equal("cooldown", Attempts(third)[0].Error);
        Assert.Equal("Hello again", fourth.Text);
        Assert.Single(Attempts(fourth));
        Assert.Equal(2, pair.Failing.Requests.Count);
        Assert.Equal(3, pair.Fallback.Requests.Count);
    }

    [Theory]
    [InlineData(false, "openai", 500)]
    [InlineData(true, "openai", 500)]
    [InlineData(false, "openai", 503)]
    [InlineData(true, "openai", 503)]
    [InlineData(false, "anthropic", 529)]
    [InlineData(true, "anthropic", 529)]
    [InlineData(false, "anthropic", 500)]
    [InlineData(true, "anthropic", 500)]
    public async Task GetResponse_ServerErrorOrOverload_IsRetriedMaxRetriesTimes_ThenFallsBack(bool streamed, string failing, int status)
    {
        // Given: max_retries 2, a 1 ms backoff base
        Reply failure = (failing, status) switch
        {
            ("openai", 500) => OpenAIError(500, "server_error", "The server had an error while processing your request. Sorry about that!", "server_error"),
            ("openai", _) => OpenAIError(503, null, "The engine is currently overloaded, please try again later.", "server_error"),
            (_, 529) => AnthropicError(529, "overloaded_error", "Overloaded"),
            _ => AnthropicError(500, "api_error", "Internal server error"),
        };
        await using var pair = await StartPairAsync(failing, [failure], [Ok("Hello from the fallback")], """{ "max_retries": 2, "retry_base_delay_seconds": 0.001 }""");

        // When
        var response = await AskAsync(pair.Router, streamed, cancellationToken: Token);

        // Then: three requests (the first and two retries), each retry after a wait, then the fallback
        Assert.Equal("Hello from the fallback", response.Text);
        Assert.Equal(3, pair.Failing.Requests.Count);
        Assert.Single(pair.Fallback.Requests);
        var attempts = Attempts(response);
        Assert.Equal(4, attempts.Count);
        Assert.All(attempts.Take(3), a => Assert.Equal(status, a.StatusCode));
        Assert.All(attempts.Take(2), a => Assert.NotNull(a.WaitSeconds));
        Assert.Equal(pair.FallbackName, attempts[3].Provider);
    }

    [Theory]
    [InlineData(false, "openai")]
    [InlineData(true, "openai")]
    [InlineData(false, "anthropic")]
    [InlineData(true, "anthropic")]
    public async Task GetResponse_InvalidRequest_IsNeitherRetriedNorSentElsewhere(bool streamed, string failing)
    {
        // Given
        Reply invalid = failing == "openai"
            ? OpenAIError(400, "invalid_function_parameters", "Invalid schema for function 'get_weather': 'object' is not a valid type.", "invalid_request_error")
            : AnthropicError(400, "invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\"");
        await using var pair = await StartPairAsync(failing, [invalid], [Ok("Hello from the fallback")], """{ "max_retries": 2, "retry_base_delay_seconds": 0.001 }""");

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(pair.Router, streamed, cancellationToken: Token));

        // Then
        Assert.Equal(ProviderErrorKind.InvalidRequest, thrown.Kind);
        Assert.Equal(400, thrown.StatusCode);
        Assert.Single(pair.Failing.Requests);
        Assert.Empty(pair.Fallback.Requests);
        Assert.Single(RouterAttempts.From(thrown)!);
    }

    [Theory]
    [InlineData(false, "openai")]
    [InlineData(true, "openai")]
    [InlineData(false, "anthropic")]
    [InlineData(true, "anthropic")]
    public async Task GetResponse_ContextLengthExceeded_SkipsTheSameSizeWindow_AndMovesToALargerOne(bool streamed, string failing)
    {
        // Given: small (8k) fails with its provider's context-length error; same (8k) cannot help; big (200k) can
        Reply tooLong = failing == "openai"
            ? OpenAIError(400, "context_length_exceeded", "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.", "invalid_request_error")
            : AnthropicError(400, "invalid_request_error", "prompt is too long: 9000 tokens > 8192 maximum");
        var other = failing == "openai" ? "anthropic" : "openai";
        await using var small = await LoopbackServer.StartAsync(Script(tooLong), Token);
        await using var same = await LoopbackServer.StartAsync(Script(Ok("Hello from same")), Token);
        await using var big = await LoopbackServer.StartAsync(Script(Ok("Hello from big")), Token);
        var config = $$"""
            {
              "provider": "small",
              "fallbacks": ["same", "big"],
              "router": { "max_retries": 2, "retry_base_delay_seconds": 0.001 },
              "pricing": {
                "small/small-model": { "input": 1, "output": 2, "context_window": 8192 },
                "same/same-model": { "input": 1, "output": 2, "context_window": 8192 },
                "big/big-model": { "input": 1, "output": 2, "context_window": 200000 }
              },
              "providers": {
                "small": {{Entry(failing, small, "small-model")}},
                "same": {{Entry(other, same, "same-model")}},
                "big": {{Entry(other, big, "big-model")}}
              }
            }
            """;
        using var routers = Build(config);

        // When
        var response = await AskAsync(routers.Create("small", null), streamed, cancellationToken: Token);

        // Then
        Assert.Equal("Hello from big", response.Text);
        Assert.Single(small.Requests);
        Assert.Empty(same.Requests);
        Assert.Single(big.Requests);
        Assert.Equal(["context_length_exceeded", "context_window_too_small", null], Attempts(response).Select(a => a.Error));
    }

    [Theory]
    [InlineData("openai", "cut")]
    [InlineData("anthropic", "cut")]
    [InlineData("anthropic", "error-event")]
    public async Task GetStreamingResponse_StreamBreaksAfterTheFirstPiece_EndsTruncatedWithThePartialText_AndNeverFallsBack(string failing, string how)
    {
        // Given: the stream sends "Hel"; once the caller has it, the connection drops (or Anthropic sends an in-band overloaded error)
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = await StartPairAsync(failing, [BreakAfterFirstPiece(how, read.Task)], [Ok("Hello from the fallback")], """{ "max_retries": 2, "retry_base_delay_seconds": 0.001 }""");
        var received = string.Empty;

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in pair.Router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: Token))
            {
                received += update.Text;
                if (received.Length > 0)
                {
                    read.TrySetResult();
                }
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, thrown.Kind);
        Assert.Equal("Hel", thrown.PartialText);
        Assert.Equal("Hel", received);
        Assert.Single(pair.Failing.Requests);
        Assert.Empty(pair.Fallback.Requests);
        var attempt = Assert.Single(RouterAttempts.From(thrown)!);
        Assert.NotNull(attempt.Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_TotalTimeoutFires_OnAServerThatHoldsTheAnswer_EndsTheCallWithoutFallback(bool streamed)
    {
        // Given: router.timeout_seconds 0.3; the first server accepts the request and never answers
        await using var pair = await StartPairAsync("openai", [Hold], [Ok("Hello from the fallback")], """{ "max_retries": 2, "retry_base_delay_seconds": 0.001, "timeout_seconds": 0.3 }""");

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(pair.Router, streamed, cancellationToken: Token));

        // Then
        Assert.Equal(ProviderErrorKind.Timeout, thrown.Kind);
        Assert.Contains("router.timeout_seconds", thrown.Message, StringComparison.Ordinal);
        Assert.Single(pair.Failing.Requests);
        Assert.Empty(pair.Fallback.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ProviderTimeoutFires_OnAServerThatHoldsTheAnswer_FallsBack(bool streamed)
    {
        // Given: providers.first.timeout_seconds 5 (config.json allows no less), no retries, on a fake clock
        var time = new FakeTimeProvider();
        await using var pair = await StartPairAsync(
            "anthropic",
            [Hold],
            [Ok("Hello from the fallback")],
            """{ "max_retries": 0, "timeout_seconds": 3600, "first_token_timeout_seconds": 3600 }""",
            time,
            failingExtra: """, "timeout_seconds": 5""");

        // When: the server holds the request while the clock passes the provider's timeout
        var call = AskAsync(pair.Router, streamed, cancellationToken: Token);
        await WaitUntilAsync(() => pair.Failing.Requests.Count == 1, Token);
        time.Advance(TimeSpan.FromSeconds(5));
        var response = await call;

        // Then
        Assert.Equal("Hello from the fallback", response.Text);
        var attempt = Attempts(response)[0];
        Assert.Equal("timeout", attempt.Error);
        Assert.Contains("providers.first.timeout_seconds", attempt.Message, StringComparison.Ordinal);
        Assert.Single(pair.Failing.Requests);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task GetStreamingResponse_FirstTokenTimeoutFires_OnAServerThatSendsHeadersButNoPiece_FallsBack(string failing)
    {
        // Given: router.first_token_timeout_seconds 0.3; the server sends its 200 and SSE headers, then nothing
        await using var pair = await StartPairAsync(failing, [HeadersThenHold], [Ok("Hello from the fallback")], """{ "max_retries": 0, "first_token_timeout_seconds": 0.3 }""");

        // When
        var response = await AskAsync(pair.Router, streamed: true, cancellationToken: Token);

        // Then
        Assert.Equal("Hello from the fallback", response.Text);
        var attempt = Attempts(response)[0];
        Assert.Equal("timeout", attempt.Error);
        Assert.Contains("router.first_token_timeout_seconds", attempt.Message, StringComparison.Ordinal);
        Assert.Single(pair.Failing.Requests);
        Assert.Single(pair.Fallback.Requests);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task GetStreamingResponse_IdleTimeoutFires_OnAServerThatStallsAfterTheFirstPiece_EndsTruncatedWithThePartialText(string failing)
    {
        // Given: router.idle_timeout_seconds 0.3; the server sends "Hel" and then stalls
        await using var pair = await StartPairAsync(failing, [BreakAfterFirstPiece("stall")], [Ok("Hello from the fallback")], """{ "max_retries": 0, "idle_timeout_seconds": 0.3 }""");

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(() => AskAsync(pair.Router, streamed: true, cancellationToken: Token));

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, thrown.Kind);
        Assert.Equal("Hel", thrown.PartialText);
        var cause = Assert.IsType<ProviderException>(thrown.InnerException);
        Assert.Equal(ProviderErrorKind.Timeout, cause.Kind);
        Assert.Contains("router.idle_timeout_seconds", cause.Message, StringComparison.Ordinal);
        Assert.Empty(pair.Fallback.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_RpmLimitReached_MovesOnWithoutSendingTheRequest(bool streamed)
    {
        // Given: providers.<failing>.rpm 1 and no waiting allowed
        await using var pair = await StartPairAsync(
            "openai",
            [Ok("Hello from the first")],
            [Ok("Hello from the fallback")],
            """{ "max_retries": 0, "max_retry_wait_seconds": 0 }""",
            failingExtra: """, "rpm": 1""");

        // When
        var first = await AskAsync(pair.Router, streamed, cancellationToken: Token);
        var second = await AskAsync(pair.Router, streamed, cancellationToken: Token);

        // Then
        Assert.Equal("Hello from the first", first.Text);
        Assert.Equal("Hello from the fallback", second.Text);
        Assert.Single(pair.Failing.Requests);
        Assert.Single(pair.Fallback.Requests);
        Assert.Equal("local_rate_limit", Attempts(second)[0].Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ConversationWithToolCalls_FallsBackFromOpenAIToAnthropic_WithAValidAnthropicRequest(bool streamed)
    {
        // Given: a conversation from an OpenAI-compatible server that numbers its calls from 0 in every turn, with
        // dots in the ids: two parallel calls answered in two tool messages, then a call reusing the first id
        await using var pair = await StartPairAsync("openai", [OpenAIError(500, "server_error", "The server had an error while processing your request.", "server_error")], [Ok("Sunny, rainy and snowy.")], """{ "max_retries": 0 }""");
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "Be brief."),
            new(ChatRole.User, "Weather in Paris and Rome, then Oslo?"),
            new(ChatRole.Assistant, [
                new TextContent("Checking both."),
                new FunctionCallContent("call.0", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" }),
                new FunctionCallContent("call.1", "get_weather", new Dictionary<string, object?> { ["city"] = "Rome" }),
            ]),
            new(ChatRole.Tool, [new FunctionResultContent("call.0", "sunny")]),
            new(ChatRole.Tool, [new FunctionResultContent("call.1", "rainy")]),
            new(ChatRole.Assistant, [new FunctionCallContent("call.0", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call.0", "snowy")]),
        ];
        var options = new ChatOptions { Tools = [AIFunctionFactory.Create((string city) => city, "get_weather", "Gets the weather.")] };

        // When
        var response = streamed
            ? await pair.Router.GetStreamingResponseAsync(messages, options, Token).ToChatResponseAsync(Token)
            : await pair.Router.GetResponseAsync(messages, options, Token);

        // Then: the answer came from the Anthropic server, whose request follows Anthropic's rules
        Assert.Equal("Sunny, rainy and snowy.", response.Text);
        Assert.Single(pair.Failing.Requests);
        using var body = JsonDocument.Parse(Assert.Single(pair.Fallback.Requests).Body);
        var root = body.RootElement;
        Assert.Equal("Be brief.", SystemText(root));
        Assert.Equal("get_weather", root.GetProperty("tools")[0].GetProperty("name").GetString());
        var sent = root.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user", "assistant", "user"], sent.Select(m => m.GetProperty("role").GetString()));

        // Every tool_use id is valid for Anthropic and unique in the request (Anthropic rejects repeats)
        var uses = new[] { sent[1], sent[3] }.Select(m => m.GetProperty("content").EnumerateArray().Where(b => b.GetProperty("type").GetString() == "tool_use").ToList()).ToList();
        Assert.Equal(["Paris", "Rome"], uses[0].Select(u => u.GetProperty("input").GetProperty("city").GetString()));
        Assert.Equal(["Oslo"], uses[1].Select(u => u.GetProperty("input").GetProperty("city").GetString()));
        var ids = uses.SelectMany(u => u).Select(u => u.GetProperty("id").GetString()!).ToList();
        Assert.All(ids, id => Assert.Matches(AnthropicToolId(), id));
        Assert.Equal(3, ids.Distinct(StringComparer.Ordinal).Count());

        // The results of each turn, in call order, alone in the one user message right after its calls
        var firstResults = sent[2].GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(["tool_result", "tool_result"], firstResults.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal(ids[..2], firstResults.Select(r => r.GetProperty("tool_use_id").GetString()));
        Assert.Contains("sunny", firstResults[0].GetRawText(), StringComparison.Ordinal);
        Assert.Contains("rainy", firstResults[1].GetRawText(), StringComparison.Ordinal);
        var lastResult = Assert.Single(sent[4].GetProperty("content").EnumerateArray());
        Assert.Equal(ids[2], lastResult.GetProperty("tool_use_id").GetString());
        Assert.Contains("snowy", lastResult.GetRawText(), StringComparison.Ordinal);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Timeouts that never fire on a fake clock within a test: only retry waits set its timers.</summary>
    private const string LongTimes = """{ "max_retries": 2, "max_retry_wait_seconds": 60, "timeout_seconds": 3600, "first_token_timeout_seconds": 3600, "idle_timeout_seconds": 3600 }""";

    [GeneratedRegex("^[a-zA-Z0-9_-]+$")]
    private static partial Regex AnthropicToolId();

    private static string SystemText(JsonElement root)
    {
        var system = root.GetProperty("system");
        return system.ValueKind == JsonValueKind.String ? system.GetString()! : system[0].GetProperty("text").GetString()!;
    }

    /// <summary>Starts the failing provider's server and a fallback of the other protocol, and a router over both.</summary>
    private async Task<Pair> StartPairAsync(string failing, Reply[] failingReplies, Reply[] fallbackReplies, string router, TimeProvider? time = null, string failingExtra = "")
    {
        var fallback = failing == "openai" ? "anthropic" : "openai";
        var failingServer = await LoopbackServer.StartAsync(Script(failingReplies), Token);
        var fallbackServer = await LoopbackServer.StartAsync(Script(fallbackReplies), Token);
        var failingEntry = Entry(failing, failingServer, failing == "openai" ? "gpt-wire" : "claude-wire");
        var config = $$"""
            {
              "provider": "first",
              "fallbacks": ["second"],
              "router": {{router}},
              "providers": {
                "first": {{failingEntry[..^1] + failingExtra + " }"}},
                "second": {{Entry(fallback, fallbackServer, fallback == "openai" ? "gpt-wire" : "claude-wire")}}
              }
            }
            """;
        var routers = Build(config, time);
        return new Pair(failingServer, fallbackServer, routers, routers.Create("first", null));
    }

    private static string Entry(string protocol, LoopbackServer server, string model)
    {
        var root = server.BaseAddress.ToString().TrimEnd('/');
        return protocol == "openai"
            ? $$"""{ "type": "openai-compatible", "base_url": "{{root}}/v1", "api_key_env": "WIRE_OPENAI_KEY", "default_model": "{{model}}" }"""
            : $$"""{ "type": "anthropic-compatible", "base_url": "{{root}}", "api_key_env": "WIRE_ANTHROPIC_KEY", "default_model": "{{model}}" }""";
    }

    /// <summary>Builds the router factory as the app does, from config.json through the registry and the client cache.</summary>
    private Routers Build(string configJson, TimeProvider? time = null)
    {
        var path = _folder.Write("config.json", configJson);
        var loaded = ConfigLoader.Load(path, currentDirectory: _folder.Path);
        var environment = new AllyEnvironment(
            new Dictionary<string, string>(StringComparer.Ordinal) { ["WIRE_OPENAI_KEY"] = OpenAIKey, ["WIRE_ANTHROPIC_KEY"] = AnthropicKey },
            _ => null,
            _folder.Combine(".env"));
        var registry = new ProviderRegistry(loaded, environment, PluginCatalog.Empty(loaded.PluginsDirectory));
        var routing = RoutingConfig.Parse(loaded.Root, loaded.DisplayPath);
        var clients = new ProviderClientCache(registry);
        return new Routers(clients, new RouterFactory(clients, routing, PriceTable.Create(routing.Pricing), usage: null, time ?? TimeProvider.System));
    }

    /// <summary>Answers the n-th request with the n-th reply, and every later one with the last.</summary>
    private static Func<HttpContext, Task> Script(params Reply[] replies)
    {
        var count = 0;
        return async context =>
        {
            var index = Math.Min(Interlocked.Increment(ref count) - 1, replies.Length - 1);
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var streamed = body.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            await replies[index](context, streamed);
        };
    }

    private static bool IsOpenAI(HttpContext context) => context.Request.Path.Value?.EndsWith("/chat/completions", StringComparison.Ordinal) == true;

    private static Reply Ok(string text) => async (context, streamed) =>
    {
        var json = JsonSerializer.Serialize(text);
        if (IsOpenAI(context))
        {
            if (streamed)
            {
                await OpenAIWire.WriteSseAsync(context, [OpenAIChunk("{\"role\":\"assistant\",\"content\":" + json + "}", null), OpenAIChunk("{}", "\"stop\""), OpenAIUsage, "data: [DONE]\n\n"]);
            }
            else
            {
                await OpenAIWire.WriteJsonAsync(context, "{\"id\":\"chatcmpl-w\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"gpt-wire\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + json + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}");
            }
        }
        else if (streamed)
        {
            AnthropicWire.StartSse(context);
            await LoopbackServer.WritePiecesAsync(context, [AnthropicWire.MessageStart(model: "claude-wire"), AnthropicWire.TextStart(), AnthropicWire.TextDelta(text), AnthropicWire.BlockStop(), AnthropicWire.MessageDelta("end_turn", 5), AnthropicWire.MessageStop()]);
        }
        else
        {
            await AnthropicWire.WriteJsonAsync(context, 200, AnthropicWire.Message("[{\"type\":\"text\",\"text\":" + json + "}]", model: "claude-wire"));
        }
    };

    private static Reply OpenAIError(int status, string? code, string message, string type, params (string Name, string Value)[] headers) => (context, _) =>
    {
        var body = "{\n  \"error\": {\n    \"message\": " + JsonSerializer.Serialize(message) + ",\n    \"type\": \"" + type + "\",\n    \"param\": null,\n    \"code\": " +
                   (code is null ? "null" : "\"" + code + "\"") + "\n  }\n}\n";
        return OpenAIWire.WriteJsonAsync(context, body, status, [("x-request-id", "req_wire"), .. headers]);
    };

    private static Reply AnthropicError(int status, string type, string message, params (string Name, string Value)[] headers) => (context, _) =>
        AnthropicWire.WriteJsonAsync(context, status, AnthropicWire.Error(type, message), [("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"), .. headers]);

    /// <summary>Accepts the request and never answers (until the client gives up).</summary>
    private static async Task Hold(HttpContext context, bool streamed)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends 200 and the stream's headers, then nothing.</summary>
    private static async Task HeadersThenHold(HttpContext context, bool streamed)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await Hold(context, streamed);
    }

    /// <summary>Streams "Hel", then drops the connection (<c>cut</c>), sends Anthropic's in-band error (<c>error-event</c>) or stalls (<c>stall</c>).</summary>
    private static Reply BreakAfterFirstPiece(string how, Task? firstPieceRead = null) => async (context, streamed) =>
    {
        Assert.True(streamed);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        string[] start = IsOpenAI(context)
            ? [OpenAIChunk("{\"role\":\"assistant\",\"content\":\"Hel\"}", null)]
            : [AnthropicWire.MessageStart(model: "claude-wire"), AnthropicWire.TextStart(), AnthropicWire.Ping(), AnthropicWire.TextDelta("Hel")];
        await LoopbackServer.WritePiecesAsync(context, start);
        switch (how)
        {
            case "cut":
                // A reset discards what the client has not read yet: cut only once the piece reached the caller.
                await firstPieceRead!.WaitAsync(context.RequestAborted);
                context.Abort();
                break;
            case "error-event":
                await firstPieceRead!.WaitAsync(context.RequestAborted);
                await LoopbackServer.WritePiecesAsync(context, [AnthropicWire.Event("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""")]);
                break;
            default:
                await Hold(context, streamed);
                break;
        }
    };

    private static string OpenAIChunk(string delta, string? finish) =>
        "data: {\"id\":\"chatcmpl-w\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-wire\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + (finish ?? "null") + "}],\"usage\":null}\n\n";

    private const string OpenAIUsage = "data: {\"id\":\"chatcmpl-w\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-wire\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n";

    private sealed class Routers(ProviderClientCache clients, RouterFactory factory) : IDisposable
    {
        public IChatClient Create(string provider, string? model) => factory.Create(provider, model);

        public void Dispose()
        {
            factory.Dispose();
            clients.Dispose();
        }
    }

    private sealed class Pair(LoopbackServer failing, LoopbackServer fallback, Routers routers, IChatClient router) : IAsyncDisposable
    {
        public LoopbackServer Failing => failing;

        public LoopbackServer Fallback => fallback;

        public string FallbackName => "second";

        public IChatClient Router => router;

        public async ValueTask DisposeAsync()
        {
            router.Dispose();
            routers.Dispose();
            await failing.DisposeAsync();
            await fallback.DisposeAsync();
        }
    }
}
