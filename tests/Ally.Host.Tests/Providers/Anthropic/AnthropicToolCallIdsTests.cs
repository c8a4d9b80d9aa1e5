using Ally.Host.Providers.Anthropic;

namespace Ally.Host.Tests.Providers.Anthropic;

public sealed class AnthropicToolCallIdsTests
{
    [Theory]
    [InlineData("toolu_01TZR6ZrLHdpAWdmhVPuDfjQ")]
    [InlineData("call_abc123")]
    [InlineData("Xy7Pq2Lm9")]
    [InlineData("a-b_c")]
    public void Normalize_ValidId_Unchanged(string id)
    {
        // Given / When
        var normalized = AnthropicToolCallIds.Normalize(id);

        // Then
        Assert.Equal(id, normalized);
    }

    [Theory]
    [InlineData("functions.get_weather:0")]
    [InlineData("call 1")]
    [InlineData("ид")]
    [InlineData("")]
    [InlineData(null)]
    public void Normalize_InvalidId_MatchesAnthropicPatternAndIsStable(string? id)
    {
        // Given / When
        var first = AnthropicToolCallIds.Normalize(id);
        var second = AnthropicToolCallIds.Normalize(id);

        // Then
        Assert.Matches("^[a-zA-Z0-9_-]+$", first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Normalize_IdsDifferingOnlyInInvalidCharacters_StayDistinct()
    {
        // Given
        const string Dotted = "call.1";
        const string Colon = "call:1";

        // When
        var dotted = AnthropicToolCallIds.Normalize(Dotted);
        var colon = AnthropicToolCallIds.Normalize(Colon);

        // Then
        Assert.NotEqual(dotted, colon);
    }
}
