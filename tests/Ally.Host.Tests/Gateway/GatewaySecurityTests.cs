using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

public sealed class GatewaySecurityTests
{
    private static void WithKeys(JsonObject config, JsonObject? extra = null)
    {
        var gateway = config["gateway"]!.AsObject();
        gateway["keys"] = new JsonArray(TestGateway.ClientKey, "second-client-key-0123456789");
        gateway["admin_key"] = TestGateway.AdminKey;
        foreach (var (key, value) in extra ?? [])
        {
            gateway[key] = value?.DeepClone();
        }
    }

    private static StringContent Chat(string model = "oai/gpt-4o-mini") =>
        new($$"""{"model":"{{model}}","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("error");

    [Fact]
    public async Task ChatCompletions_MissingOrWrongKey_Is401WithoutHint()
    {
        // Given a gateway with client keys
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), c => WithKeys(c), TestContext.Current.CancellationToken);

        // When
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() =>
            gateway.Sdk(key: "sk-not-a-gateway-key").GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));
        var wrong = await Assert.ThrowsAsync<ClientResultException>(() =>
            gateway.Sdk(key: TestGateway.ClientKey + "x").GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));
        using var noHeader = await gateway.Http.PostAsync("v1/chat/completions", Chat(), TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(401, unknown.Status);
        Assert.Equal(401, wrong.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, noHeader.StatusCode);
        var body = await noHeader.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("invalid_api_key", body, StringComparison.Ordinal);
        Assert.DoesNotContain(TestGateway.ClientKey[..8], body, StringComparison.Ordinal);
        Assert.DoesNotContain("second", body, StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream().Requests);
    }

    [Fact]
    public async Task ChatCompletions_EitherClientKey_IsAcceptedAndRecordedByName()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), c => WithKeys(c), TestContext.Current.CancellationToken);

        // When
        ChatCompletion first = await gateway.Sdk(TestGateway.ClientKey).GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        ChatCompletion second = await gateway.Sdk("second-client-key-0123456789").GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the client's key is not what reaches the provider, and usage names keys without showing them
        Assert.Equal("Hello from OpenAI", first.Content[0].Text);
        Assert.Equal("Hello from OpenAI", second.Content[0].Text);
        Assert.All(gateway.Upstream().Requests, r => Assert.Equal("Bearer " + TestGateway.ProviderKeys["FAKE_OPENAI_KEY"], r.Headers["Authorization"]));
        Assert.Equal(["key2", "key1"], (await gateway.RecordsAsync(TestContext.Current.CancellationToken)).Select(r => r.SessionId));
    }

    [Fact]
    public async Task Api_AdminKey_IsRequiredAndClientKeysDoNotOpenIt()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), c => WithKeys(c), TestContext.Current.CancellationToken);

        // When
        using var none = await gateway.Http.GetAsync("api/providers", TestContext.Current.CancellationToken);
        using var client = new HttpRequestMessage(HttpMethod.Get, "api/providers") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.ClientKey) } };
        using var withClientKey = await gateway.Http.SendAsync(client, TestContext.Current.CancellationToken);
        using var admin = new HttpRequestMessage(HttpMethod.Get, "api/providers") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.AdminKey) } };
        using var withAdminKey = await gateway.Http.SendAsync(admin, TestContext.Current.CancellationToken);
        using var health = await gateway.Http.GetAsync("health", TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withClientKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withAdminKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Requests_WithoutKeys_OnlyForLoopbackHostNames()
    {
        // Given a gateway without keys (open to this machine)
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);

        // When a page on another name reaches it through DNS rebinding, and when a local client calls it
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "api/providers") { Headers = { Host = "evil.example:8080" } };
        using var reboundResponse = await gateway.Http.SendAsync(rebound, TestContext.Current.CancellationToken);
        using var reboundChat = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Headers = { Host = "evil.example" }, Content = Chat() };
        using var reboundChatResponse = await gateway.Http.SendAsync(reboundChat, TestContext.Current.CancellationToken);
        using var local = await gateway.Http.GetAsync("api/providers", TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(HttpStatusCode.Forbidden, reboundResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, reboundChatResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Empty(gateway.Upstream().Requests);
    }

    [Fact]
    public async Task Post_WithoutJsonContentType_Is415()
    {
        // Given a gateway without keys, which a web page could try to reach with a simple cross-site form post
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);

        // When
        using var response = await gateway.Http.PostAsync(
            "v1/chat/completions",
            new StringContent("""{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "text/plain"),
            TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Empty(gateway.Upstream().Requests);
    }

    [Fact]
    public async Task ChatCompletions_BodyOverTheLimit_Is413WithLengthOrChunked()
    {
        // Given a 2 KiB limit
        await using var gateway = await TestGateway.StartOpenAIAsync(
            FakeUpstreams.OpenAI(), c => c["gateway"]!["max_request_bytes"] = 2048, TestContext.Current.CancellationToken);
        var big = $$"""{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"{{new string('a', 4096)}}"}]}""";

        // When
        using var withLength = await gateway.Http.PostAsync("v1/chat/completions", new StringContent(big, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var chunkedContent = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunkedContent.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var chunkedRequest = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = chunkedContent };
        chunkedRequest.Headers.TransferEncodingChunked = true;
        using var chunked = await gateway.Http.SendAsync(chunkedRequest, TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.StatusCode);
        Assert.Equal("request_too_large", (await ErrorOf(withLength)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Empty(gateway.Upstream().Requests);
    }

    [Fact]
    public async Task ChatCompletions_OverThePerKeyRate_Is429WithRetryAfter()
    {
        // Given two requests per minute per key
        await using var gateway = await TestGateway.StartOpenAIAsync(
            FakeUpstreams.OpenAI(), c => WithKeys(c, new JsonObject { ["rpm_per_key"] = 2 }), TestContext.Current.CancellationToken);
        var chat = gateway.Sdk(TestGateway.ClientKey).GetChatClient("oai/gpt-4o-mini");
        await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // When
        var limited = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));
        ChatCompletion otherKey = await gateway.Sdk("second-client-key-0123456789").GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the third call of the first key is refused with a wait, and the second key has its own allowance
        Assert.Equal(429, limited.Status);
        Assert.True(limited.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.InRange(int.Parse(retryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Equal("Hello from OpenAI", otherKey.Content[0].Text);
        Assert.Equal(3, gateway.Upstream().Requests.Count);
    }

    [Fact]
    public async Task ChatCompletions_OverTheStreamCap_Is429()
    {
        // Given one stream allowed, held open by the provider
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await TestGateway.StartOpenAIAsync(
            async context =>
            {
                context.Response.ContentType = "text/event-stream";
                await Fakes.LoopbackServer.WritePiecesAsync(context, ["""data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}""" + "\n\n"]);
                started.TrySetResult();
                await release.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
                await Fakes.LoopbackServer.WritePiecesAsync(context, ["""data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""" + "\n\n", "data: [DONE]\n\n"]);
            },
            c => c["gateway"]!["max_concurrent_streams"] = 1,
            TestContext.Current.CancellationToken);
        const string Body = """{"model":"oai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}""";
        using var firstRequest = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        using var first = await gateway.Http.SendAsync(firstRequest, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        // When
        using var second = await gateway.Http.PostAsync("v1/chat/completions", new StringContent(Body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("too_many_streams", (await ErrorOf(second)).GetProperty("code").GetString());
        Assert.NotNull(second.Headers.RetryAfter);
        release.SetResult();
        Assert.EndsWith("data: [DONE]\n\n", await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletions_ManyMadeUpModels_DoNotGrowTheClientCacheWithoutBound()
    {
        // Given a provider that answers whatever model it is asked for
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);

        // When a client names 300 different models
        for (var i = 0; i < 300; i++)
        {
            using var response = await gateway.Http.PostAsync("v1/chat/completions", Chat($"oai/made-up-{i}"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Then every call was served, and the provider clients kept for reuse stay bounded
        Assert.Equal(300, gateway.Upstream().Requests.Count);
        Assert.InRange(gateway.Clients.Count, 1, 256);
    }

    [Fact]
    public async Task Responses_AfterEveryEndpoint_NeverContainAProviderKey()
    {
        // Given a gateway over all four protocols, and one provider that fails echoing its key
        await using var gateway = await TestGateway.StartAllProtocolsAsync(c => WithKeys(c), TestContext.Current.CancellationToken);
        var seen = new StringBuilder();
        async Task Call(HttpMethod method, string path, string? body, string key)
        {
            using var request = new HttpRequestMessage(method, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key) } };
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
            seen.AppendLine(string.Join('\n', response.Headers.Concat(response.Content.Headers).Select(h => h.Key + ": " + string.Join(',', h.Value))));
            seen.AppendLine(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        // When every endpoint is called
        foreach (var model in new[] { "oai/gpt-4o-mini", "gem/gemini-2.0-flash", "llama/llama3.1", "nosuch/x" })
        {
            await Call(HttpMethod.Post, "v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Hi"}]}""", TestGateway.ClientKey);
            await Call(HttpMethod.Post, "v1/chat/completions", $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", TestGateway.ClientKey);
        }

        await Call(HttpMethod.Get, "v1/models", null, TestGateway.ClientKey);
        foreach (var path in new[] { "api/providers", "api/providers/models", "api/providers/health", "api/providers/oai/models", "api/usage" })
        {
            await Call(HttpMethod.Get, path, null, TestGateway.AdminKey);
        }

        await Call(HttpMethod.Post, "api/providers/register", """{"name":"echo","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1","api_key_env":"FAKE_OPENAI_KEY"}""", TestGateway.AdminKey);
        await Call(HttpMethod.Post, "v1/chat/completions", """{"model":"echo/x","messages":[{"role":"user","content":"Hi"}]}""", TestGateway.ClientKey);

        // Then
        Assert.Contains("Hello from Gemini", seen.ToString(), StringComparison.Ordinal);
        TestGateway.AssertNoProviderKey(seen.ToString());
    }

    [Fact]
    public void Read_NonLoopbackWithoutKeys_RefusesWithAClearMessage()
    {
        // Given
        var config = ConfigLoader.Load(Path.Combine(Path.GetTempPath(), "no-such-ally-config", "config.json"));
        var environment = new AllyEnvironment(new Dictionary<string, string>(), _ => null);

        // When
        var refused = Assert.Throws<ConfigException>(() => GatewayOptions.Read(config, environment, "http://0.0.0.0:8080"));
        var keyed = GatewayOptions.Read(config, new AllyEnvironment(new Dictionary<string, string> { [GatewayOptions.KeysVariable] = "a-long-enough-client-key, another-long-client-key" }, _ => null), "http://0.0.0.0:8080");
        var loopback = GatewayOptions.Read(config, environment, "http://localhost:9000;http://[::1]:9001");

        // Then
        Assert.Contains("refusing to listen on http://0.0.0.0:8080 without client keys", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, keyed.ClientKeys.Count);
        Assert.True(loopback.LoopbackOnly);
        Assert.Equal([GatewayOptions.DefaultUrl], GatewayOptions.Read(config, environment).Urls);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("true", null, true)]
    [InlineData(null, "1", true)]
    [InlineData("false", "1", false)]
    public void Read_InlineIo_FromConfigElseTheRuntimeSwitch(string? configured, string? variable, bool expected)
    {
        // Given
        var directory = Path.Combine(Path.GetTempPath(), "ally-gateway-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, configured is null ? "{}" : "{\"gateway\":{\"inline_io\":" + configured + "}}");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (variable is not null)
        {
            values[GatewayOptions.InlineCompletionsVariable] = variable;
        }

        // When
        var options = GatewayOptions.Read(ConfigLoader.Load(path, currentDirectory: directory), new AllyEnvironment(values, _ => null));

        // Then
        Assert.Equal(expected, options.InlineIo);
        Directory.Delete(directory, recursive: true);
    }

    [Theory]
    [InlineData("""{"gateway":{"keys":["tiny-key"]}}""", "gateway.keys[0]")]
    [InlineData("""{"gateway":{"max_request_bytes":5}}""", "gateway.max_request_bytes")]
    [InlineData("""{"gateway":{"rpm":5}}""", "gateway.rpm")]
    [InlineData("""{"gateway":{"inline_io":"yes"}}""", "gateway.inline_io")]
    [InlineData("""{"aliases":{"fast":"no-slash"}}""", "aliases.fast")]
    public void Read_BadSettings_NameTheKey(string json, string key)
    {
        // Given
        var directory = Path.Combine(Path.GetTempPath(), "ally-gateway-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, json);

        // When
        var failure = Assert.Throws<ConfigException>(() => GatewayOptions.Read(ConfigLoader.Load(path, currentDirectory: directory), new AllyEnvironment(new Dictionary<string, string>(), _ => null)));

        // Then
        Assert.Contains(key, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("tiny-key", failure.Message, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Serve_NonLoopbackWithoutKeys_ExitsWith2()
    {
        // Given the real command line, composed over an empty configuration
        var output = new StringWriter();
        var error = new StringWriter();
        var streams = new Ally.Host.Terminal.StandardStreams(output, error, TextReader.Null, inputRedirected: false, outputRedirected: true);
        var directory = Path.Combine(Path.GetTempPath(), "ally-gateway-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var cli = new Ally.Host.Cli.AllyCommandLine(streams, _ =>
        {
            var config = ConfigLoader.Load(Path.Combine(directory, "config.json"), currentDirectory: directory);
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { DisableDefaults = true });
            var environment = new AllyEnvironment(new Dictionary<string, string>(), _ => null);
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(builder.Services, new Ally.Host.Providers.ProviderRegistry(config, environment, Ally.Host.Plugins.PluginCatalog.Empty(directory)));
            Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(builder.Services, SecretRedactor.None);
            Microsoft.Extensions.DependencyInjection.LoggingServiceCollectionExtensions.AddLogging(builder.Services);
            return builder.Build();
        });

        // When
        var exit = await cli.InvokeAsync(["serve", "--urls", "http://0.0.0.0:0"], TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(2, exit);
        Assert.Contains("refusing to listen on http://0.0.0.0:0 without client keys", error.ToString(), StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }
}
