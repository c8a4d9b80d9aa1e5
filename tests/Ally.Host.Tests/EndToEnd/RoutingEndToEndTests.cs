using System.Globalization;
using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.EndToEnd;

/// <summary><c>ally -p</c> goes through the router: fallbacks with their attempts, cost from the price table, usage records.</summary>
public sealed class RoutingEndToEndTests : IDisposable
{
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Prompt_PrimaryUnreachable_FallsBackAndListsAttemptsCostAndUsage()
    {
        // Given a primary provider nobody listens for, a working fallback, and a price for the fallback's model
        await using var server = await FakeProviderServer.StartAsync(TestContext.Current.CancellationToken);
        var providers = FakeProviderServer.ProvidersConfig(server).TrimEnd().TrimEnd('}')
            + """, "dead": { "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "default_model": "m" } }""";
        _folder.WriteConfig($$"""
            {
              "provider": "dead",
              "fallbacks": ["fake-anthropic"],
              "router": { "max_retries": 1, "retry_base_delay_seconds": 0.01 },
              "pricing": { "fake-anthropic/claude-x": { "input": 3, "output": 15 } },
              "providers": {{providers}}
            }
            """);
        _folder.WriteEnv($"FAKE_KEY={FakeProviderServer.Key}\n");

        // When ally answers through the router
        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi", "--json", "--no-tools"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the fallback answered, the failed attempts are listed, and the cost is priced
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.Equal("Hello from anthropic", root.GetProperty("text").GetString());
        Assert.Equal("fake-anthropic", root.GetProperty("provider").GetString());
        var attempts = root.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Contains(attempts, a => a.GetProperty("provider").GetString() == "dead" && a.GetProperty("error").GetString() == "network");
        Assert.Equal("fake-anthropic", attempts[^1].GetProperty("provider").GetString());
        Assert.Equal(((10 * 3m) + (5 * 15m)) / 1_000_000m, root.GetProperty("cost_usd").GetDecimal());

        // And the call is in the usage records
        var usage = await AllyProcess.RunAsync(_folder.Root, ["usage", "--json", "--by", "provider"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(usage.ExitCode == 0, usage.ToString());
        using var report = JsonDocument.Parse(usage.StandardOutput);
        var row = report.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == "fake-anthropic");
        Assert.Equal(1, row.GetProperty("calls").GetInt32());
        Assert.Equal(10, row.GetProperty("input_tokens").GetInt32());
    }

    [Fact]
    public async Task Prompt_UnpricedModel_ReportsUnknownCostNotZero()
    {
        await using var server = await FakeProviderServer.StartAsync(TestContext.Current.CancellationToken);
        _folder.WriteConfig($$"""{ "provider": "fake-openai", "providers": {{FakeProviderServer.ProvidersConfig(server)}} }""");
        _folder.WriteEnv($"FAKE_KEY={FakeProviderServer.Key}\n");

        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi", "--json", "--no-tools"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("cost_usd").ValueKind);
    }

    [Fact]
    public async Task Prompt_AllCandidatesFail_ExitsOneWithErrorObjectAndAttempts()
    {
        _folder.WriteConfig("""
            { "provider": "dead", "router": { "max_retries": 0 },
              "providers": { "dead": { "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "default_model": "m" } } }
            """);

        var result = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("network", error.GetProperty("kind").GetString());
        Assert.Equal("dead", error.GetProperty("provider").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("text").ValueKind);
        Assert.NotEmpty(json.RootElement.GetProperty("attempts").EnumerateArray());
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_RateLimited_CooldownIsRememberedByTheNextProcess()
    {
        // Given a provider that answers 429 with a long retry-after
        await using var server = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers["retry-after"] = "120";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""", context.RequestAborted);
        }, TestContext.Current.CancellationToken);
        _folder.WriteConfig($$"""
            { "provider": "limited", "router": { "max_retry_wait_seconds": 1 },
              "providers": { "limited": { "type": "openai-compatible", "base_url": "{{server.BaseAddress}}v1", "default_model": "m" } } }
            """);

        // When one call is refused, and health is asked in a new process
        var first = await AllyProcess.RunAsync(_folder.Root, ["-p", "hi", "--json"], cancellationToken: TestContext.Current.CancellationToken);
        var health = await AllyProcess.RunAsync(_folder.Root, ["health", "--json"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the call failed as a rate limit, and health shows the cooldown with its reason
        Assert.Equal(1, first.ExitCode);
        using var error = JsonDocument.Parse(first.StandardOutput);
        Assert.Equal("rate_limit", error.RootElement.GetProperty("error").GetProperty("kind").GetString());
        using var json = JsonDocument.Parse(health.StandardOutput);
        var limited = json.RootElement.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "limited");
        Assert.Equal("rate_limit", limited.GetProperty("cooldown").GetProperty("reason").GetString());
        var until = limited.GetProperty("cooldown").GetProperty("until").GetDateTimeOffset();
        Assert.True(until > DateTimeOffset.UnixEpoch);

        // And the text view says why and until when, in the time zone it names
        var text = await AllyProcess.RunAsync(_folder.Root, ["health"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains($"cooling down (rate_limit) until {until.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC", text.StandardOutput, StringComparison.Ordinal);
    }
}
