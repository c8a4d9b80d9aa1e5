using Ally.Abstractions;
using Ally.Host.Pricing;

namespace Ally.Host.Tests.Pricing;

public sealed class PriceTableTests
{
    [Fact]
    public void BuiltIn_LoadsTheEmbeddedTableWithItsDate()
    {
        // Given / When
        var table = PriceTable.BuiltIn;

        // Then
        Assert.Equal("2026-07-24", table.Taken);
        Assert.Contains("LiteLLM", table.Source, StringComparison.Ordinal);
        Assert.True(table.Count > 500);
    }

    [Theory]
    [InlineData("openai", "gpt-4o", 2.5, 10)]
    [InlineData("anthropic", "claude-sonnet-4-5", 3, 15)]
    [InlineData("google", "gemini-2.5-pro", 1.25, 10)]
    [InlineData("gemini", "gemini-2.5-pro", 1.25, 10)]
    [InlineData("google", "models/gemini-2.5-pro", 1.25, 10)]
    [InlineData("groq", "llama-3.3-70b-versatile", 0.59, 0.79)]
    [InlineData("deepseek", "deepseek-chat", 0.28, 0.42)]
    [InlineData("openrouter", "anthropic/claude-3.5-sonnet", 3, 15)]
    [InlineData("xai", "grok-4", 3, 15)]
    public void Find_KnownModels_ReturnTheirPricePerMillion(string provider, string model, double input, double output)
    {
        // Given / When
        var price = PriceTable.BuiltIn.Find(provider, model);

        // Then
        Assert.NotNull(price);
        Assert.Equal((decimal)input, price.Input);
        Assert.Equal((decimal)output, price.Output);
    }

    [Fact]
    public void Find_KnownModel_HasContextWindowMaxOutputAndTiers()
    {
        // Given / When
        var price = PriceTable.BuiltIn.Find("anthropic", "claude-sonnet-4-5")!;

        // Then
        Assert.Equal((200_000, 64_000), (price.ContextWindow, price.MaxOutput));
        Assert.Equal((0.3m, 3.75m), (price.CachedInput, price.CacheWrite));
        Assert.Equal((200_000L, 6m, 22.5m), (price.AboveTokens, price.InputAbove, price.OutputAbove));
    }

    [Fact]
    public void Find_DatedVersionNotInTheTable_FallsBackToTheUndatedModel()
    {
        // Given / When
        var price = PriceTable.BuiltIn.Find("openai", "gpt-4o-mini-2099-01-31");

        // Then
        Assert.Equal(PriceTable.BuiltIn.Find("openai", "gpt-4o-mini"), price);
    }

    [Fact]
    public void Find_VendorModelServedElsewhere_UsesTheVendorsPrice()
    {
        // Given / When / Then
        Assert.Equal(2.5m, PriceTable.BuiltIn.Find("github", "gpt-4o")!.Input);
        Assert.Equal(2.5m, PriceTable.BuiltIn.Find("my-proxy", "openai/gpt-4o")!.Input);
    }

    [Theory]
    [InlineData("groq", "no-such-model")]
    [InlineData("perplexity", "sonar-that-does-not-exist")]
    [InlineData("my-proxy", "meta-llama/Llama-3.3-70B-Instruct")]
    public void Find_UnknownModel_ReturnsNull(string provider, string model)
    {
        // Given / When
        var price = PriceTable.BuiltIn.Find(provider, model);

        // Then
        Assert.Null(price);
    }

    [Theory]
    [InlineData("ollama", "qwen3:8b")]
    [InlineData("lmstudio", "anything")]
    [InlineData("vllm", "meta-llama/Llama-3.1-8B")]
    public void Find_LocalServers_AreFree(string provider, string model)
    {
        // Given / When
        var price = PriceTable.BuiltIn.Find(provider, model);

        // Then
        Assert.Equal((0m, 0m), (price!.Input, price.Output));
    }

    [Fact]
    public void Create_ConfigAndPluginPrices_OverrideTheBuiltInTable()
    {
        // Given
        var overrides = new Dictionary<string, PriceEntry>
        {
            ["openai/gpt-4o"] = new() { Input = 1, Output = 2 },
            ["minimax/abab7"] = new() { Input = 9, Output = 9 },
        };
        (string, ModelPrice)[] plugins =
        [
            ("minimax", new ModelPrice("abab7") { InputPerMillion = 0.2m, OutputPerMillion = 1.1m, ContextWindow = 245_000 }),
            ("minimax", new ModelPrice("abab6") { InputPerMillion = 0.1m, OutputPerMillion = 0.5m }),
        ];

        // When
        var table = PriceTable.Create(overrides, plugins);

        // Then
        var gpt = table.Find("openai", "gpt-4o")!;
        Assert.Equal((1m, 2m, 128_000), (gpt.Input, gpt.Output, gpt.ContextWindow));
        Assert.Null(gpt.CachedInput);
        var abab7 = table.Find("minimax", "abab7")!;
        Assert.Equal((9m, 245_000), (abab7.Input, abab7.ContextWindow));
        Assert.Equal(0.1m, table.Find("minimax", "abab6")!.Input);
        Assert.Equal(2.5m, PriceTable.BuiltIn.Find("openai", "gpt-4o")!.Input);
    }
}
