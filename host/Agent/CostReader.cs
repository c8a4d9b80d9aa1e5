using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Agent;

/// <summary>Reads the cost the router puts on responses under <c>ally.cost_usd</c>.</summary>
internal static class CostReader
{
    public const string Key = "ally.cost_usd";

    public static decimal? Read(AdditionalPropertiesDictionary? properties)
    {
        if (properties is null || !properties.TryGetValue(Key, out var value))
        {
            return null;
        }

        return value switch
        {
            decimal d => d,
            double d when double.IsFinite(d) => (decimal)d,
            float f when float.IsFinite(f) => (decimal)f,
            int i => i,
            long l => l,
            string s when decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetDecimal(out var number) => number,
            _ => null,
        };
    }

    /// <summary>Formats a cost for the quiet line: <c>$0.0012</c>, or <c>cost unknown</c>.</summary>
    public static string Format(decimal? cost) => cost switch
    {
        null => "cost unknown",
        0m => "$0",
        < 0.01m => "$" + cost.Value.ToString("0.0000##", CultureInfo.InvariantCulture),
        _ => "$" + cost.Value.ToString("0.00##", CultureInfo.InvariantCulture),
    };
}
