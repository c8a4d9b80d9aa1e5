using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.EndToEnd;

/// <summary><c>ally models</c> and <c>ally health</c> through the executable, against loopback model listings of each protocol.</summary>
public sealed class ModelsHealthCommandTests : IDisposable
{
    private const string Key = "models-health-key-0123456789";

    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ModelsJson_EachProtocol_ListsTheModelsItsApiReports()
    {
        // Given one provider per protocol on a loopback server that lists models in each wire format
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(ListingsAsync, ct);
        var root = server.BaseAddress.ToString().TrimEnd('/');
        _folder.WriteConfig($$"""
            {
              "providers": {
                "l-openai": { "type": "openai-compatible", "base_url": "{{root}}/v1", "api_key_env": "L_KEY", "default_model": "gpt-x" },
                "l-anthropic": { "type": "anthropic-compatible", "base_url": "{{root}}", "api_key_env": "L_KEY", "default_model": "claude-x" },
                "l-gemini": { "type": "gemini", "base_url": "{{root}}", "api_key_env": "L_KEY", "default_model": "gemini-x" },
                "l-ollama": { "type": "ollama", "base_url": "{{root}}", "default_model": "llama-x" }
              }
            }
            """);
        _folder.WriteEnv($"L_KEY={Key}\n");

        // When the models are listed as JSON
        var result = await AllyProcess.RunAsync(_folder.Root, ["models", "--json"], cancellationToken: ct);

        // Then each provider's list comes from its API, in its own shape turned into ids
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var providers = json.RootElement.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["gpt-x", "gpt-y"], Ids(providers["l-openai"]));
        Assert.Equal(["claude-x"], Ids(providers["l-anthropic"]));
        Assert.Equal(["gemini-x"], Ids(providers["l-gemini"]));
        Assert.Equal(["llama-x:latest"], Ids(providers["l-ollama"]));
        foreach (var name in new[] { "l-openai", "l-anthropic", "l-gemini", "l-ollama" })
        {
            Assert.Equal("api", providers[name].GetProperty("source").GetString());
            Assert.Equal(JsonValueKind.Null, providers[name].GetProperty("note").ValueKind);
        }

        // And each listing was asked for the protocol's way, the key never in a URL
        Assert.Contains(server.Requests, r => r.PathAndQuery == "/v1/models" && r.Headers.GetValueOrDefault("Authorization") == $"Bearer {Key}");
        Assert.Contains(server.Requests, r => r.PathAndQuery.StartsWith("/v1/models", StringComparison.Ordinal) && r.Headers.GetValueOrDefault("x-api-key") == Key && r.Headers.ContainsKey("anthropic-version"));
        Assert.Contains(server.Requests, r => r.PathAndQuery.StartsWith("/v1beta/models", StringComparison.Ordinal) && r.Headers.GetValueOrDefault("x-goog-api-key") == Key);
        Assert.Contains(server.Requests, r => r.PathAndQuery == "/api/tags");
        Assert.All(server.Requests, r => Assert.DoesNotContain(Key, r.PathAndQuery, StringComparison.Ordinal));
        Assert.DoesNotContain(Key, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_ListingRefused_ShowsTheKnownListWithANoteSayingWhy()
    {
        // Given a built-in whose listing endpoint refuses the key
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            context => Json(context, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""", 401),
            ct);
        _folder.WriteConfig($$"""{ "providers": { "anthropic": { "base_url": "{{server.BaseAddress}}" } } }""");
        _folder.WriteEnv($"ANTHROPIC_API_KEY={Key}\n");

        // When its models are listed, as JSON and as text
        var json = await AllyProcess.RunAsync(_folder.Root, ["models", "--provider", "anthropic", "--json"], cancellationToken: ct);
        var text = await AllyProcess.RunAsync(_folder.Root, ["models", "--provider", "anthropic"], cancellationToken: ct);

        // Then the known list is shown, with a note that says the listing failed and why
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.StandardOutput);
        var listing = Assert.Single(document.RootElement.GetProperty("providers").EnumerateArray());
        Assert.Equal("known", listing.GetProperty("source").GetString());
        var note = listing.GetProperty("note").GetString()!;
        Assert.Contains("authentication", note, StringComparison.Ordinal);
        Assert.Contains("invalid x-api-key", note, StringComparison.Ordinal);
        Assert.Contains("claude-sonnet-4-5", Ids(listing));
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("anthropic (known models) - listing failed", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  claude-sonnet-4-5", text.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, json.StandardOutput + json.StandardError + text.StandardOutput + text.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthJson_ConfiguredProviders_CheckedConcurrentlyWithStatusAndLatency()
    {
        // Given three configured providers: "alpha" answers only once "zulu" has been asked too (so the checks must
        // run at the same time), "zulu" refuses the key, and "slow" never answers
        var ct = TestContext.Current.CancellationToken;
        var zuluAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LoopbackServer.StartAsync(
            async context =>
            {
                var path = context.Request.Path.Value ?? string.Empty;
                if (path.StartsWith("/zulu", StringComparison.Ordinal))
                {
                    zuluAsked.TrySetResult();
                    await Json(context, """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", 401);
                }
                else if (path.StartsWith("/alpha", StringComparison.Ordinal))
                {
                    await zuluAsked.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
                    await Json(context, """{"object":"list","data":[{"id":"a-model","object":"model","created":1,"owned_by":"me"}]}""");
                }
                else
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
            },
            ct);
        var root = server.BaseAddress.ToString().TrimEnd('/');
        _folder.WriteConfig($$"""
            {
              "providers": {
                "alpha": { "type": "openai-compatible", "base_url": "{{root}}/alpha/v1", "api_key_env": "H_KEY", "default_model": "a-model" },
                "slow": { "type": "openai-compatible", "base_url": "{{root}}/slow/v1", "api_key_env": "H_KEY", "default_model": "s-model" },
                "zulu": { "type": "openai-compatible", "base_url": "{{root}}/zulu/v1", "api_key_env": "H_KEY", "default_model": "z-model" }
              }
            }
            """);
        _folder.WriteEnv($"H_KEY={Key}\n");

        // When health is checked with a short timeout
        var result = await AllyProcess.RunAsync(_folder.Root, ["health", "--json", "--timeout", "3"], cancellationToken: ct);

        // Then each configured provider has its status, latency and, when down, the kind and the provider's message
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var providers = json.RootElement.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal("up", providers["alpha"].GetProperty("status").GetString());
        Assert.True(providers["alpha"].GetProperty("latency_ms").GetDouble() > 0);
        Assert.Equal("down", providers["zulu"].GetProperty("status").GetString());
        Assert.Equal("authentication", providers["zulu"].GetProperty("error_kind").GetString());
        Assert.Equal("Incorrect API key provided.", providers["zulu"].GetProperty("message").GetString());
        Assert.Equal("down", providers["slow"].GetProperty("status").GetString());
        Assert.Equal("timeout", providers["slow"].GetProperty("error_kind").GetString());
        Assert.InRange(providers["slow"].GetProperty("latency_ms").GetDouble(), 2_500, 60_000);

        // And hosted providers without a key are not checked at all
        Assert.False(providers.ContainsKey("openai"));
        Assert.False(providers.ContainsKey("anthropic"));
        Assert.DoesNotContain(Key, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_Text_ShowsATableAndFailsWhenNothingIsUp()
    {
        // Given one configured provider that refuses the key
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            context => Json(context, """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}""", 401),
            ct);
        _folder.WriteConfig($$"""{ "providers": { "groq": { "base_url": "{{server.BaseAddress}}openai/v1" } } }""");
        _folder.WriteEnv($"GROQ_API_KEY={Key}\n");

        // When health is checked
        var result = await AllyProcess.RunAsync(_folder.Root, ["health", "--timeout", "3"], cancellationToken: ct);

        // Then the table has the provider's row with its message; exit 1 only when no provider is up
        var lines = result.StandardOutput.Split('\n');
        Assert.StartsWith("PROVIDER", lines[0], StringComparison.Ordinal);
        var groq = Assert.Single(lines, l => l.StartsWith("groq ", StringComparison.Ordinal));
        Assert.Contains("down", groq, StringComparison.Ordinal);
        Assert.Contains(" ms ", groq, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided.", groq, StringComparison.Ordinal);
        Assert.Equal("/openai/v1/models", server.LastRequest.PathAndQuery);
        var anyUp = lines.Skip(1).Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, "up", ..]);
        Assert.Equal(anyUp ? 0 : 1, result.ExitCode);
    }

    [Fact]
    public async Task Health_LocalServers_OnlyTheConfiguredOnesAreChecked()
    {
        // Given two local servers pointed at loopback, ollama by OLLAMA_HOST and lmstudio by config.json, no keys,
        // and the other local servers (vllm, llamacpp, localai) never mentioned
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            context => context.Request.Path.Value == "/lm/v1/models"
                ? Json(context, """{"object":"list","data":[{"id":"qwen-x","object":"model","owned_by":"organization_owner"}]}""")
                : ListingsAsync(context),
            ct);
        var root = server.BaseAddress.ToString().TrimEnd('/');
        _folder.WriteConfig($$"""{ "providers": { "lmstudio": { "base_url": "{{root}}/lm/v1" } } }""");
        var environment = new Dictionary<string, string?> { ["OLLAMA_HOST"] = root };

        // When health is checked, as JSON and as a table
        var json = await AllyProcess.RunAsync(_folder.Root, ["health", "--json", "--timeout", "3"], environment, cancellationToken: ct);
        var text = await AllyProcess.RunAsync(_folder.Root, ["health", "--timeout", "3"], environment, cancellationToken: ct);

        // Then only the configured ones are there, both up; the unconfigured ones are not probed and not listed
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.StandardOutput);
        var providers = document.RootElement.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("status").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["lmstudio"] = "up", ["ollama"] = "up" }, providers);
        var rows = text.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(["lmstudio", "ollama"], rows);
    }

    private static List<string> Ids(JsonElement listing) =>
        [.. listing.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];

    private static async Task ListingsAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (path == "/v1/models" && context.Request.Headers.ContainsKey("anthropic-version"))
        {
            await Json(context, """{"data":[{"type":"model","id":"claude-x","display_name":"Claude X","created_at":"2025-02-19T00:00:00Z"}],"has_more":false,"first_id":"claude-x","last_id":"claude-x"}""");
        }
        else if (path == "/v1/models")
        {
            await Json(context, """
                {
                  "object": "list",
                  "data": [
                    {"id": "gpt-x", "object": "model", "created": 1686935002, "owned_by": "openai"},
                    {"id": "gpt-y", "object": "model", "created": 1686935002, "owned_by": "system"}
                  ]
                }
                """);
        }
        else if (path == "/v1beta/models")
        {
            await Json(context, """{"models":[{"name":"models/gemini-x","displayName":"Gemini X","inputTokenLimit":1048576,"supportedGenerationMethods":["generateContent","countTokens"]},{"name":"models/embed-x","supportedGenerationMethods":["embedContent"]}]}""");
        }
        else if (path == "/api/tags")
        {
            await Json(context, """{"models":[{"name":"llama-x:latest","model":"llama-x:latest","modified_at":"2025-05-01T10:00:00.1234567+02:00","size":2019393189,"digest":"a80c4f17acd5","details":{"format":"gguf","family":"llama","parameter_size":"3.2B","quantization_level":"Q4_K_M"}}]}""");
        }
        else
        {
            context.Response.StatusCode = 404;
        }
    }

    private static async Task Json(HttpContext context, string body, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
    }
}
