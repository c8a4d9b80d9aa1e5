using Ally.Host.Pricing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Pricing;

public sealed class CostCalculatorTests
{
    [Fact]
    public void Compute_OpenAIWithCachedTokens_ChargesCachedPartAtTheCachedPrice()
    {
        // Given: gpt-4o is $2.50 in, $1.25 cached, $10 out; prompt_tokens (1,000) include the 400 cached
        var price = PriceTable.BuiltIn.Find("openai", "gpt-4o");
        var usage = new UsageDetails { InputTokenCount = 1_000, CachedInputTokenCount = 400, OutputTokenCount = 500, TotalTokenCount = 1_500 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 600 × 2.50 + 400 × 1.25 + 500 × 10, per million
        Assert.Equal(0.007m, cost);
    }

    [Fact]
    public void Compute_OpenAIReasoningTokens_AreInsideOutputAndNotChargedTwice()
    {
        // Given: o3 is $2 in, $8 out; completion_tokens (3,000) include 2,500 reasoning tokens
        var price = PriceTable.BuiltIn.Find("openai", "o3");
        var usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 3_000, ReasoningTokenCount = 2_500, TotalTokenCount = 4_000 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 1,000 × 2 + 3,000 × 8
        Assert.Equal(0.026m, cost);
    }

    [Fact]
    public void Compute_AnthropicCacheReadsAndWrites_ChargesEachPromptTokenOnce()
    {
        // Given: claude-sonnet-4-5 is $3 in, $0.30 cache read, $3.75 cache write, $15 out; the client reports
        // the whole prompt (2,000 uncached + 6,000 read + 2,000 written) as input
        var price = PriceTable.BuiltIn.Find("anthropic", "claude-sonnet-4-5");
        var usage = new UsageDetails
        {
            InputTokenCount = 10_000,
            CachedInputTokenCount = 6_000,
            OutputTokenCount = 1_000,
            AdditionalCounts = new() { [CostCalculator.CacheWriteCountKey] = 2_000 },
        };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 2,000 × 3 + 6,000 × 0.30 + 2,000 × 3.75 + 1,000 × 15
        Assert.Equal(0.0303m, cost);
    }

    [Fact]
    public void Compute_GeminiThoughtTokens_CountAsOutput()
    {
        // Given: gemini-2.5-pro is $1.25 in, $10 out; the client puts 2,000 thought tokens inside the 3,000 output
        var price = PriceTable.BuiltIn.Find("google", "gemini-2.5-pro");
        var usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 3_000, ReasoningTokenCount = 2_000, TotalTokenCount = 4_000 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 1,000 × 1.25 + 3,000 × 10
        Assert.Equal(0.03125m, cost);
    }

    [Fact]
    public void Compute_TotalAboveInputPlusOutput_IsNotChargedAgain()
    {
        // Given: gemini-2.5-flash is $0.30 in, $2.50 out; the client reports 500 candidates + 700 thoughts as output,
        // and Gemini's total also counts 300 toolUsePromptTokenCount tokens
        var price = PriceTable.BuiltIn.Find("google", "gemini-2.5-flash");
        var usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 1_200, ReasoningTokenCount = 700, TotalTokenCount = 2_500 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 1,000 × 0.30 + 1,200 × 2.50, the thoughts once
        Assert.Equal(0.0033m, cost);
    }

    [Fact]
    public void Compute_XaiUsageAsTheOpenAIClientReportsIt_ChargesReasoningAsOutputOnce()
    {
        // Given: grok-4 is $3 in, $15 out; xAI sent completion_tokens 500 and reasoning_tokens 700 (total 2,200), which
        // the OpenAI client reports as 1,200 output tokens, 700 of them reasoning
        var price = PriceTable.BuiltIn.Find("xai", "grok-4");
        var usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 1_200, ReasoningTokenCount = 700, TotalTokenCount = 2_200 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 1,000 × 3 + (500 + 700) × 15
        Assert.Equal(0.021m, cost);
    }

    [Fact]
    public void Compute_PromptAboveTheTier_UsesTheLongContextPrices()
    {
        // Given: gemini-2.5-pro costs $2.50 in and $15 out above 200k prompt tokens
        var price = PriceTable.BuiltIn.Find("google", "gemini-2.5-pro");
        var usage = new UsageDetails { InputTokenCount = 250_000, OutputTokenCount = 1_000 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 250,000 × 2.50 + 1,000 × 15
        Assert.Equal(0.64m, cost);
    }

    [Fact]
    public void Compute_SeparateReasoningPrice_ChargesReasoningTokensAtIt()
    {
        // Given
        var price = new PriceEntry { Input = 1, Output = 4, Reasoning = 2 };
        var usage = new UsageDetails { InputTokenCount = 1_000_000, OutputTokenCount = 1_000_000, ReasoningTokenCount = 250_000 };

        // When
        var cost = CostCalculator.Compute(price, usage);

        // Then: 1 + 0.75 × 4 + 0.25 × 2
        Assert.Equal(4.5m, cost);
    }

    [Fact]
    public void Compute_ModelWithoutPrice_IsUnknownNotZero()
    {
        // Given / When
        var cost = CostCalculator.Compute(PriceTable.BuiltIn.Find("groq", "no-such-model"), new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 });

        // Then
        Assert.Null(cost);
    }

    [Fact]
    public void Compute_PriceMissingForATokenKind_IsUnknown()
    {
        // Given: only an input price is known
        var price = new PriceEntry { Input = 1 };

        // When / Then
        Assert.Null(CostCalculator.Compute(price, new UsageDetails { InputTokenCount = 10, OutputTokenCount = 10 }));
        Assert.Null(CostCalculator.Compute(price, null));
    }

    [Fact]
    public void Compute_LocalModel_IsFree()
    {
        // Given / When
        var cost = CostCalculator.Compute(PriceTable.BuiltIn.Find("ollama", "llama3.2:latest"), new UsageDetails { InputTokenCount = 5_000, OutputTokenCount = 900 });

        // Then
        Assert.Equal(0m, cost);
    }

    [Fact]
    public void Estimate_UsesInputAndOutputPrices()
    {
        // Given / When
        var estimate = CostCalculator.Estimate(PriceTable.BuiltIn.Find("openai", "gpt-4o"), 1_000, 1_000);

        // Then
        Assert.Equal(0.0125m, estimate);
    }
}
