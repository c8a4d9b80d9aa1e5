using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ally.Host.Providers.Gemini;

/// <summary>Lenient readers for the Gemini wire JSON, which is proto3 JSON: fields may be absent or of an unexpected kind.</summary>
internal static class GeminiJson
{
    public static string? GetString(JsonObject? obj, string name) =>
        obj?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static long? GetLong(JsonObject? obj, string name)
    {
        if (obj?[name] is not JsonValue value)
        {
            return null;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                return value.TryGetValue<long>(out var number) ? number : (long)value.GetValue<double>();
            case JsonValueKind.String:
                // proto3 JSON writes 64-bit integers as strings.
                return long.TryParse(value.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            default:
                return null;
        }
    }

    public static bool GetBool(JsonObject? obj, string name) =>
        obj?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    public static JsonObject? GetObject(JsonObject? obj, string name) => obj?[name] as JsonObject;

    public static JsonArray? GetArray(JsonObject? obj, string name) => obj?[name] as JsonArray;

    /// <summary>Parses a body that should be JSON, or returns <see langword="null"/> when it is not.</summary>
    public static JsonNode? TryParse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
