namespace Ally.Abstractions.Tests;

public sealed class ProviderValidationTests
{
    [Fact]
    public void Fail_WithMessage_IsInvalidAndKeepsMessage()
    {
        var result = ProviderValidation.Fail("Set MINIMAX_GROUP_ID in .env.");

        Assert.False(result.IsValid);
        Assert.Equal("Set MINIMAX_GROUP_ID in .env.", result.Error);
    }

    [Fact]
    public void Success_IsValidWithoutError()
    {
        Assert.True(ProviderValidation.Success.IsValid);
        Assert.Null(ProviderValidation.Success.Error);
    }

    [Fact]
    public void Fail_WithBlankMessage_Throws()
    {
        Assert.Throws<ArgumentException>(() => ProviderValidation.Fail(" "));
    }

    [Fact]
    public void GetValue_IsCaseInsensitiveAndTreatsEmptyAsMissing()
    {
        var settings = new ProviderSettings
        {
            Name = "minimax",
            Values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["MINIMAX_GROUP_ID"] = "42", ["empty"] = string.Empty },
        };

        Assert.Equal("42", settings.GetValue("minimax_group_id"));
        Assert.Null(settings.GetValue("empty"));
        Assert.Null(settings.GetValue("missing"));
    }
}
