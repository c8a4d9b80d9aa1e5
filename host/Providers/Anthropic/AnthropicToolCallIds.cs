using System.Globalization;
using System.Text;

namespace Ally.Host.Providers.Anthropic;

/// <summary>Makes tool call ids from other providers acceptable to Anthropic.</summary>
/// <remarks>
/// Anthropic requires <c>tool_use.id</c> to match <c>^[a-zA-Z0-9_-]+$</c>, while histories carried over from another
/// provider hold <c>call_…</c>, 9-character Mistral ids, ids with dots or colons, or empty ids (PROVIDER-QUIRKS.md,
/// "Across providers"). The mapping is a pure function of the id, so a call and its result always map to the same
/// value without any shared state; a changed id gets a hash suffix so two ids that differ only in invalid
/// characters stay distinct.
/// </remarks>
internal static class AnthropicToolCallIds
{
    public static string Normalize(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "toolu_empty";
        }

        if (IsValid(id))
        {
            return id;
        }

        var builder = new StringBuilder(id.Length + 9);
        foreach (var c in id)
        {
            builder.Append(IsValidChar(c) ? c : '_');
        }

        builder.Append('_').Append(Fnv1a(id).ToString("x8", CultureInfo.InvariantCulture));
        return builder.ToString();
    }

    public static bool IsValid(string id)
    {
        foreach (var c in id)
        {
            if (!IsValidChar(c))
            {
                return false;
            }
        }

        return id.Length > 0;
    }

    private static bool IsValidChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';

    private static uint Fnv1a(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash ^= c;
            hash *= 16777619u;
        }

        return hash;
    }
}
