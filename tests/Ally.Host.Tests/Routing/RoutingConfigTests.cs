using System.Text.Json;
using Ally.Host.Configuration;
using Ally.Host.Routing;

namespace Ally.Host.Tests.Routing;

public sealed class RoutingConfigTests
{
    private const string Path = "/home/user/ally/config.json";

    [Fact]
    public void Parse_FullConfig_ReadsEverySection()
    {
        // Given
        const string Json = """
            {
              "provider": "openai",
              "fallbacks": ["groq", "openrouter/anthropic/claude-3.5-sonnet"],
              "router": {
                "strategy": "lowest-latency", "weights": {"groq": 3}, "max_retry_wait_seconds": 10, "cooldown_seconds": 45,
                "max_retries": 4, "timeout_seconds": 120, "first_token_timeout_seconds": 20, "idle_timeout_seconds": 15.5
              },
              "budget": {"session_usd": 2.5, "daily_usd": 10},
              "pricing": {"local/my-model": {"input": 0.1, "output": 0.2, "cached_input": 0.01, "cache_write": 0.15, "context_window": 32768, "max_output": 4096}},
              "providers": {"groq": {"base_url": "https://x", "timeout_seconds": 30, "rpm": 30, "tpm": 6000, "first_token_timeout_seconds": 5, "idle_timeout_seconds": 4}}
            }
            """;

        // When
        var config = Parse(Json);

        // Then
        Assert.Equal([new RouteCandidate("groq", null), new RouteCandidate("openrouter", "anthropic/claude-3.5-sonnet")], config.Fallbacks);
        var router = config.Router;
        Assert.Equal(RouterStrategy.LowestLatency, router.Strategy);
        Assert.Equal(3, router.Weights["GROQ"]);
        Assert.Equal((10d, 45d, 4, 120d, 20d, 15.5d), (router.MaxRetryWait.TotalSeconds, router.Cooldown.TotalSeconds, router.MaxRetries, router.Timeout.TotalSeconds, router.FirstTokenTimeout.TotalSeconds, router.IdleTimeout.TotalSeconds));
        Assert.Equal((2.5m, 10m), (config.Budget.SessionUsd, config.Budget.DailyUsd));
        var price = config.Pricing["local/my-model"];
        Assert.Equal((0.1m, 0.2m, 0.01m, 0.15m, 32768, 4096), (price.Input, price.Output, price.CachedInput, price.CacheWrite, price.ContextWindow, price.MaxOutput));
        var groq = config.ForProvider("groq");
        Assert.Equal((30d, 5d, 4d, 30, 6000), (groq.Timeout!.Value.TotalSeconds, groq.FirstTokenTimeout!.Value.TotalSeconds, groq.IdleTimeout!.Value.TotalSeconds, groq.RequestsPerMinute, groq.TokensPerMinute));
    }

    [Fact]
    public void Parse_EmptyConfig_UsesTheDefaults()
    {
        // Given / When
        var config = Parse("{}");

        // Then
        Assert.Empty(config.Fallbacks);
        Assert.Equal(new RouterOptions().Timeout, config.Router.Timeout);
        Assert.Equal((RouterStrategy.Priority, 60d, 30d, 2, 600d, 60d, 60d), (config.Router.Strategy, config.Router.MaxRetryWait.TotalSeconds, config.Router.Cooldown.TotalSeconds, config.Router.MaxRetries, config.Router.Timeout.TotalSeconds, config.Router.FirstTokenTimeout.TotalSeconds, config.Router.IdleTimeout.TotalSeconds));
        Assert.False(config.Budget.IsLimited);
    }

    [Fact]
    public void Parse_PerRoleFallbacks_GiveEachRoleItsChain()
    {
        // Given
        var config = Parse("""{"fallbacks": {"coder": ["anthropic/claude-sonnet-4-5"], "default": ["groq"]}}""");

        // When
        var coder = config.CandidatesFor("coder", new RouteCandidate("openai", "gpt-4o"));
        var writer = config.CandidatesFor("writer", new RouteCandidate("openai", "gpt-4o"));

        // Then
        Assert.Equal(["openai/gpt-4o", "anthropic/claude-sonnet-4-5"], coder.Select(c => c.ToString()));
        Assert.Equal(["openai/gpt-4o", "groq"], writer.Select(c => c.ToString()));
    }

    [Fact]
    public void WithCanonicalNames_AliasInFallbacksSettingsAndWeights_BecomesTheProvidersName()
    {
        // Given: gemini is google's alias; google's own rpm wins over the alias's
        var config = Parse("""
            {"fallbacks": ["gemini/gemini-2.5-flash", "groq"],
             "router": {"weights": {"gemini": 3}},
             "providers": {"gemini": {"rpm": 10, "tpm": 500}, "google": {"rpm": 20}}}
            """);

        // When
        var canonical = config.WithCanonicalNames(name => name == "gemini" ? "google" : name);

        // Then
        Assert.Equal(["google/gemini-2.5-flash", "groq"], canonical.Fallbacks.Select(c => c.ToString()));
        Assert.Equal(3, canonical.Router.Weights["google"]);
        Assert.Equal((20, (int?)null), (canonical.ForProvider("google").RequestsPerMinute, canonical.ForProvider("google").TokensPerMinute));
        Assert.False(canonical.Providers.ContainsKey("gemini"));
    }

    [Fact]
    public void CandidatesFor_PrimaryRepeatedInFallbacks_AppearsOnce()
    {
        // Given
        var config = Parse("""{"fallbacks": ["openai/gpt-4o", "groq"]}""");

        // When
        var candidates = config.CandidatesFor(null, new RouteCandidate("openai", "gpt-4o"));

        // Then
        Assert.Equal(["openai/gpt-4o", "groq"], candidates.Select(c => c.ToString()));
    }

    [Theory]
    [InlineData("""{"router": {"max_retries": -1}}""", "router.max_retries must be a whole number from 0 to 10 (got -1)")]
    [InlineData("""{"router": {"max_retries": 2.5}}""", "router.max_retries must be a whole number from 0 to 10")]
    [InlineData("""{"router": {"strategy": "fastest"}}""", "router.strategy must be one of priority, round-robin, lowest-latency, lowest-cost, weighted (got \"fastest\")")]
    [InlineData("""{"router": {"timeout_seconds": 0}}""", "router.timeout_seconds must be a number of seconds from 0.001 to 86400 (got 0)")]
    [InlineData("""{"router": {"max_retry_wait_seconds": "60"}}""", "router.max_retry_wait_seconds must be a number of seconds from 0 to 3600 (got \"60\")")]
    [InlineData("""{"router": {"weights": {"groq": 5000}}}""", "router.weights.groq must be a whole number from 0 to 1000")]
    [InlineData("""{"router": []}""", "router must be an object (got an array)")]
    [InlineData("""{"budget": {"daily_usd": -5}}""", "budget.daily_usd must be a number from 0 to 1000000 (got -5)")]
    [InlineData("""{"fallbacks": ["groq", ""]}""", "fallbacks[1] must be a \"provider\" or \"provider/model\" string")]
    [InlineData("""{"fallbacks": "groq"}""", "fallbacks must be an array")]
    [InlineData("""{"fallbacks": {"coder": ["groq", 3]}}""", "fallbacks.coder[1] must be")]
    [InlineData("""{"pricing": {"gpt-4o": {"input": 1}}}""", "pricing.gpt-4o must be named \"provider/model\"")]
    [InlineData("""{"pricing": {"openai/x": {"input": -1}}}""", "pricing.openai/x.input must be a number from 0")]
    [InlineData("""{"providers": {"groq": {"rpm": 0}}}""", "providers.groq.rpm must be a whole number from 1 to 1000000 (got 0)")]
    [InlineData("""{"providers": {"groq": {"idle_timeout_seconds": -1}}}""", "providers.groq.idle_timeout_seconds must be a number of seconds")]
    public void Parse_BadValue_ThrowsOneSentenceNamingFileKeyAndRange(string json, string expected)
    {
        // Given / When
        var thrown = Assert.Throws<ConfigException>(() => Parse(json));

        // Then
        Assert.StartsWith($"{Path}: ", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(expected, thrown.Message, StringComparison.Ordinal);
        Assert.EndsWith(".", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KeyPastedIntoANumber_IsNotEchoed()
    {
        // Given
        const string Key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

        // When
        var thrown = Assert.Throws<ConfigException>(() => Parse("{\"router\": {\"timeout_seconds\": \"" + Key + "\"}}"));

        // Then
        Assert.DoesNotContain(Key, thrown.Message, StringComparison.Ordinal);
        Assert.Contains("a string of", thrown.Message, StringComparison.Ordinal);
    }

    private static RoutingConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return RoutingConfig.Parse(document.RootElement, Path);
    }
}
