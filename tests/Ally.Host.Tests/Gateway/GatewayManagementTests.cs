using System.Net;
using System.Text;
using System.Text.Json;
using Ally.Host.Tests.Fakes;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

public sealed class GatewayManagementTests
{
    private static async Task<JsonElement> GetJsonAsync(TestGateway gateway, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await gateway.Http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostJsonAsync(TestGateway gateway, string path, string body)
    {
        using var response = await gateway.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone());
    }

    [Fact]
    public async Task GetModels_ThroughTheSdk_ListsEveryReadyProviderAsProviderSlashModel()
    {
        // Given
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        // When
        var models = await gateway.Sdk().GetOpenAIModelClient().GetModelsAsync(TestContext.Current.CancellationToken);

        // Then every protocol's listing is there, and built-ins without keys (openai, groq...) are not
        var ids = models.Value.Select(m => m.Id).ToList();
        Assert.Contains("oai/gpt-4o-mini", ids);
        Assert.Contains("oai/gpt-4.1", ids);
        Assert.Contains("gem/gemini-2.0-flash", ids);
        Assert.Contains("llama/llama3.1:latest", ids);
        Assert.Contains(ids, id => id.StartsWith("claude/", StringComparison.Ordinal));
        Assert.DoesNotContain(ids, id => id.StartsWith("groq/", StringComparison.Ordinal));
        Assert.Equal("oai", models.Value.First(m => m.Id == "oai/gpt-4.1").OwnedBy);
    }

    [Fact]
    public async Task Providers_ListsStatusSourceAndDefaultModel()
    {
        // Given
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        // When
        var body = await GetJsonAsync(gateway, "api/providers");

        // Then
        Assert.Equal("oai", body.GetProperty("default_provider").GetString());
        var providers = body.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("ready", providers["oai"].GetProperty("status").GetString());
        Assert.Equal("config", providers["oai"].GetProperty("source").GetString());
        Assert.Equal("gpt-4o-mini", providers["oai"].GetProperty("default_model").GetString());
        Assert.True(providers["oai"].GetProperty("is_default").GetBoolean());
        Assert.Equal("missing-env", providers["groq"].GetProperty("status").GetString());
        Assert.Equal("built-in", providers["groq"].GetProperty("source").GetString());
        Assert.Equal("GROQ_API_KEY", providers["groq"].GetProperty("missing_env_vars")[0].GetString());
        Assert.False(providers["groq"].GetProperty("overrides_builtin").GetBoolean());
    }

    [Fact]
    public async Task ProviderModels_OneProviderAndAll_ComeFromTheApiOrTheKnownList()
    {
        // Given
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        // When
        var one = await GetJsonAsync(gateway, "api/providers/gem/models");
        var all = await GetJsonAsync(gateway, "api/providers/models");
        var unknown = await GetJsonAsync(gateway, "api/providers/nosuch/models", HttpStatusCode.NotFound);

        // Then
        Assert.Equal("api", one.GetProperty("source").GetString());
        Assert.Equal("gemini-2.0-flash", one.GetProperty("models")[0].GetString());
        var providers = all.GetProperty("providers").EnumerateArray().Select(p => p.GetProperty("provider").GetString()).ToList();
        Assert.Contains("llama", providers);
        Assert.Equal("not_found", unknown.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Health_ChecksEveryProviderWithLatency()
    {
        // Given one provider up, one that answers 500, built-ins without keys and local servers nobody configured
        var broken = await LoopbackServer.StartAsync(c => FakeUpstreams.JsonAsync(c, """{"error":{"message":"boom","type":"server_error"}}""", 500), TestContext.Current.CancellationToken);
        var up = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI(), TestContext.Current.CancellationToken);
        await using var gateway = await TestGateway.StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)>
            {
                ["up"] = ("openai-compatible", up, "FAKE_OPENAI_KEY", "gpt-4o-mini"),
                ["broken"] = ("openai-compatible", broken, "FAKE_BACKUP_KEY", "m"),
            },
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        var body = await GetJsonAsync(gateway, "api/providers/health");

        // Then
        var health = body.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("up", health["up"].GetProperty("status").GetString());
        Assert.True(health["up"].GetProperty("latency_ms").GetDouble() >= 0);
        Assert.Equal("down", health["broken"].GetProperty("status").GetString());
        Assert.Equal("server_error", health["broken"].GetProperty("error_kind").GetString());
        Assert.Equal("not-ready", health["groq"].GetProperty("status").GetString());
        Assert.DoesNotContain("lmstudio", health.Keys); // a local server nobody configured is not probed (it would show as down)
    }

    [Fact]
    public async Task Register_NewProvider_Is201AndServesAtOnce()
    {
        // Given a gateway, and another OpenAI-compatible server it does not know yet
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);
        await using var extra = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("Hello from the new one", "tiny"), TestContext.Current.CancellationToken);

        // When
        var (status, body) = await PostJsonAsync(gateway, "api/providers/register",
            $$"""{"name":"newbie","type":"openai-compatible","base_url":"{{new Uri(extra.BaseAddress, "v1")}}","api_key_env":"FAKE_BACKUP_KEY","default_model":"tiny"}""");
        ChatCompletion completion = await gateway.Sdk().GetChatClient("newbie/tiny").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("newbie", body.GetProperty("name").GetString());
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.Equal("Hello from the new one", completion.Content[0].Text);
        Assert.Equal("Bearer " + TestGateway.ProviderKeys["FAKE_BACKUP_KEY"], extra.LastRequest.Headers["Authorization"]);
    }

    [Theory]
    [InlineData("""{"type":"openai-compatible","base_url":"http://127.0.0.1:9/v1"}""", 400, "name")]
    [InlineData("""{"name":"x","type":"soap","base_url":"http://127.0.0.1:9/v1"}""", 400, "type")]
    [InlineData("""{"name":"x","type":"openai-compatible"}""", 400, "base_url")]
    [InlineData("""{"name":"x","type":"openai-compatible","base_url":"ftp://nope"}""", 400, "base_url")]
    [InlineData("""{"name":"x","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1","api_key_env":"ALLY_GATEWAY_ADMIN_KEY"}""", 400, "api_key_env")]
    [InlineData("""{"name":"groq","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1"}""", 409, "groq")]
    [InlineData("""[1]""", 400, "JSON object")]
    public async Task Register_BadEntry_IsRefusedNamingTheField(string entry, int status, string mentioned)
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), cancellationToken: TestContext.Current.CancellationToken);

        // When
        var (code, body) = await PostJsonAsync(gateway, "api/providers/register", entry);

        // Then
        Assert.Equal(status, (int)code);
        Assert.Contains(mentioned, body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetDefault_ChangesWhereBareModelsGo()
    {
        // Given
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        // When
        var (status, body) = await PostJsonAsync(gateway, "api/providers/gem/default", "{}");
        ChatCompletion completion = await gateway.Sdk().GetChatClient("gemini-2.0-flash").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        var (unknownStatus, _) = await PostJsonAsync(gateway, "api/providers/nosuch/default", "{}");
        var (notReadyStatus, notReady) = await PostJsonAsync(gateway, "api/providers/groq/default", "{}");

        // Then
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("gem", body.GetProperty("default_provider").GetString());
        Assert.Equal("Hello from Gemini", completion.Content[0].Text);
        Assert.Equal(HttpStatusCode.NotFound, unknownStatus);
        Assert.Equal(HttpStatusCode.Conflict, notReadyStatus);
        Assert.Contains("GROQ_API_KEY", notReady.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_AfterCalls_ReportsTokensLatencyAndOutcomes()
    {
        // Given two answered calls and one failure
        await using var gateway = await TestGateway.StartAllProtocolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var sdk = gateway.Sdk();
        await sdk.GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        await foreach (var _ in sdk.GetChatClient("gem/gemini-2.0-flash").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
        }

        using var invalid = await gateway.Http.PostAsync("v1/chat/completions", new StringContent("""{"model":"oai/gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"tool_choice":"sometimes"}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        // When
        await gateway.Usage.FlushAsync(TestContext.Current.CancellationToken);
        var body = await GetJsonAsync(gateway, "api/usage?by=model&limit=10");
        var byProvider = await GetJsonAsync(gateway, "api/usage?since=2000-01-01");
        var badBy = await GetJsonAsync(gateway, "api/usage?by=colour", HttpStatusCode.BadRequest);

        // Then the report is `ally usage --json`'s, from the usage store, with the latest calls; the invalid request never reached a provider
        Assert.Equal("model", body.GetProperty("by").GetString());
        var rows = body.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!);
        Assert.Equal(26, rows["oai/gpt-4o-mini"].GetProperty("input_tokens").GetInt64());
        Assert.Equal(10, rows["oai/gpt-4o-mini"].GetProperty("output_tokens").GetInt64());
        Assert.Equal(3, rows["gem/gemini-2.0-flash-001"].GetProperty("output_tokens").GetInt64());
        Assert.Equal(2, body.GetProperty("total").GetProperty("calls").GetInt64());
        var recent = body.GetProperty("recent");
        Assert.Equal(2, recent.GetArrayLength());
        Assert.Equal("gem", recent[0].GetProperty("provider").GetString());
        Assert.True(recent[0].GetProperty("ttft_ms").GetInt64() >= 0);
        Assert.Equal("gateway", recent[0].GetProperty("role").GetString());
        Assert.Equal("ok", recent[1].GetProperty("outcome").GetString());
        Assert.Equal("oai", recent[1].GetProperty("attempts")[0].GetProperty("provider").GetString());
        Assert.Equal("provider", byProvider.GetProperty("by").GetString());
        Assert.Equal("2000-01-01T00:00:00Z", byProvider.GetProperty("since").GetString());
        Assert.Equal(2, byProvider.GetProperty("rows").GetArrayLength());
        Assert.Equal("by", badBy.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task Health_Liveness_IsOkWithoutAuth()
    {
        // Given
        await using var gateway = await TestGateway.StartOpenAIAsync(FakeUpstreams.OpenAI(), c => c["gateway"]!["keys"] = new System.Text.Json.Nodes.JsonArray("client-key-0123456789abcdef"), TestContext.Current.CancellationToken);

        // When
        var body = await GetJsonAsync(gateway, "health");
        var unknownPath = await GetJsonAsync(gateway, "nothing/here", HttpStatusCode.NotFound);

        // Then
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal("not_found", unknownPath.GetProperty("error").GetProperty("code").GetString());
    }
}
