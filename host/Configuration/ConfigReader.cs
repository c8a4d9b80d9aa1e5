using System.Globalization;
using System.Text.Json;

namespace Ally.Host.Configuration;

/// <summary>
/// Reads typed values from one object of config.json. Every mistake becomes a <see cref="ConfigException"/> that
/// names the file, the full key and what is allowed; a missing key or <c>null</c> reads as <see langword="null"/>.
/// </summary>
internal sealed class ConfigReader
{
    private readonly string _prefix;

    public ConfigReader(string file, JsonElement element, string prefix = "")
    {
        File = file;
        Element = element;
        _prefix = prefix;
    }

    /// <summary>Gets the file name used in messages.</summary>
    public string File { get; }

    /// <summary>Gets the object this reader reads.</summary>
    public JsonElement Element { get; }

    /// <summary>Gets the keys of the object, in file order.</summary>
    public IEnumerable<string> Keys => Element.EnumerateObject().Select(p => p.Name);

    /// <summary>Gets the full dotted key for a key of this object, as messages show it.</summary>
    public string KeyPath(string key) => _prefix + key;

    public bool Has(string key) => Element.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.Null;

    public string? GetString(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Error(key, $"must be a string, not {ConfigLoader.Kind(value)}");
    }

    public double? GetDouble(string key, double min, double max)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number))
        {
            throw Error(key, $"must be a number from {Format(min)} to {Format(max)}, not {ConfigLoader.Kind(value)}");
        }

        return number >= min && number <= max
            ? number
            : throw Error(key, $"is {Format(number)}; allowed: {Format(min)} to {Format(max)}");
    }

    public int? GetInt(string key, int min, int max)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            throw Error(key, $"must be a whole number from {min} to {max}, not {ConfigLoader.Kind(value)}");
        }

        return number >= min && number <= max ? number : throw Error(key, $"is {number}; allowed: {min} to {max}");
    }

    public bool? GetBool(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, $"must be true or false, not {ConfigLoader.Kind(value)}"),
        };
    }

    public IReadOnlyList<string>? GetStringList(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw Error(key, "must be an array of strings such as [\"a\", \"b\"]");
        }

        return value.EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    public Uri? GetHttpUrl(string key)
    {
        var text = GetString(key);
        if (text is null)
        {
            return null;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw Error(key, $"is '{text}'; it must be an absolute http:// or https:// URL");
    }

    public ConfigReader? GetObject(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object
            ? new ConfigReader(File, value, KeyPath(key) + ".")
            : throw Error(key, $"must be an object, not {ConfigLoader.Kind(value)}");
    }

    public ConfigException Error(string key, string problem) => new($"{File}: '{KeyPath(key)}' {problem}.");

    private bool TryGet(string key, out JsonElement value) =>
        Element.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
