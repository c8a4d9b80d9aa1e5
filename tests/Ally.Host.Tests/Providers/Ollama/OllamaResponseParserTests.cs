using Ally.Host.Providers.Ollama;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Ollama;

public sealed class OllamaResponseParserTests
{
    [Theory]
    [InlineData("2024-10-01T16:15:20.4965315Z", 2024, 10, 1, 16, 15, 20, 4965315, 0)]
    [InlineData("2024-10-01T16:15:20.763058Z", 2024, 10, 1, 16, 15, 20, 7630580, 0)]
    [InlineData("2025-05-10T08:06:48.639712648-07:00", 2025, 5, 10, 8, 6, 48, 6397126, -7)]
    [InlineData("2025-05-10T08:06:48.6397126489+02:00", 2025, 5, 10, 8, 6, 48, 6397126, 2)]
    [InlineData("2025-05-10T08:06:48Z", 2025, 5, 10, 8, 6, 48, 0, 0)]
    public void ParseTimestamp_GoTimestamps_Parse(string value, int year, int month, int day, int hour, int minute, int second, int ticks, int offsetHours)
    {
        // Given / When
        var parsed = OllamaResponseParser.ParseTimestamp(value);

        // Then
        Assert.Equal(new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.FromHours(offsetHours)).AddTicks(ticks), parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    public void ParseTimestamp_Unreadable_IsNull(string? value)
    {
        // Given / When / Then
        Assert.Null(OllamaResponseParser.ParseTimestamp(value));
    }

    [Theory]
    [InlineData(null, false, "stop")]
    [InlineData("stop", false, "stop")]
    [InlineData("length", false, "length")]
    [InlineData("stop", true, "tool_calls")]
    [InlineData("load", false, "load")]
    public void MapFinishReason_DoneReason_Maps(string? doneReason, bool hasToolCalls, string expected)
    {
        // Given / When / Then
        Assert.Equal(new ChatFinishReason(expected), OllamaResponseParser.MapFinishReason(doneReason, hasToolCalls));
    }
}
