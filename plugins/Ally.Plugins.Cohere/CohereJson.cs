using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Ally.Plugins.Cohere;

/// <summary>Reads and writes the plugin's JSON with Newtonsoft.Json, and converts at the contract's System.Text.Json edge.</summary>
/// <remarks>
/// Microsoft.Extensions.AI speaks System.Text.Json (<see cref="JsonElement"/> schemas and tool arguments), so values
/// cross that edge here and only here; everything on the wire is built and parsed with Newtonsoft.Json.
/// </remarks>
internal static class CohereJson
{
    /// <summary>Parses one JSON value.</summary>
    /// <remarks>
    /// Newtonsoft's default <see cref="DateParseHandling.DateTime"/> turns any string that looks like a date into a
    /// <see cref="DateTime"/> and writes it back in another format, which would rewrite the model's own text.
    /// </remarks>
    /// <exception cref="JsonReaderException">The text is not JSON.</exception>
    public static JToken Parse(string json)
    {
        using var reader = new JsonTextReader(new StringReader(json))
        {
            DateParseHandling = DateParseHandling.None,
            MaxDepth = 128,
        };
        var token = JToken.ReadFrom(reader);
        while (reader.Read())
        {
            if (reader.TokenType != JsonToken.Comment)
            {
                throw new JsonReaderException("Unexpected content after the JSON value.");
            }
        }

        return token;
    }

    /// <summary>Parses a JSON object, or returns <see langword="null"/> when the text is not one.</summary>
    public static JObject? TryParseObject(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return Parse(json) as JObject;
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes a token compactly.</summary>
    public static string Serialize(JToken token) => token.ToString(Formatting.None);

    /// <summary>Converts a value from the contract (a <see cref="JsonElement"/>, a dictionary, a primitive …) to a token.</summary>
    public static JToken FromObject(object? value) => value switch
    {
        null => JValue.CreateNull(),
        JToken token => token,
        JsonElement element => element.ValueKind == JsonValueKind.Undefined ? JValue.CreateNull() : Parse(element.GetRawText()),
        JsonDocument document => Parse(document.RootElement.GetRawText()),
        JsonNode node => Parse(node.ToJsonString()),
        string text => new JValue(text),
        bool or char or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal => new JValue(value),
        IDictionary<string, object?> dictionary => FromDictionary(dictionary),
        IEnumerable<KeyValuePair<string, object?>> pairs => FromDictionary(pairs),
        IEnumerable items and not IDictionary => new JArray(items.Cast<object?>().Select(FromObject)),
        _ => JToken.FromObject(value),
    };

    /// <summary>Converts a parsed tool argument to the <see cref="JsonElement"/> the host's other clients hand out.</summary>
    public static JsonElement ToJsonElement(JToken token)
    {
        using var document = JsonDocument.Parse(Serialize(token));
        return document.RootElement.Clone();
    }

    /// <summary>Reads a string property, or returns <see langword="null"/> when it is absent or not a string.</summary>
    public static string? String(JToken? token, string name) =>
        token is JObject obj && obj[name] is JValue { Type: JTokenType.String } value ? (string?)value : null;

    /// <summary>Reads an integer property, or returns <see langword="null"/> when it is absent or not a number.</summary>
    public static long? Long(JToken? token, string name) =>
        token is JObject obj && obj[name] is JValue { Type: JTokenType.Integer or JTokenType.Float } value ? (long)value : null;

    private static JObject FromDictionary(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var result = new JObject();
        foreach (var (key, item) in pairs)
        {
            result[key] = FromObject(item);
        }

        return result;
    }
}
