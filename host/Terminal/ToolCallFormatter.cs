using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Terminal;

/// <summary>Shows tool calls to the user: one line for the call, and a preview of what a change will write or run.</summary>
internal static class ToolCallFormatter
{
    private const int MaxValueChars = 60;
    private const int MaxPreviewLines = 20;

    /// <summary>Formats <c>name(key: value, …)</c> with long values shortened.</summary>
    public static string Describe(FunctionCallContent call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var arguments = (call.Arguments ?? new Dictionary<string, object?>())
            .Select(a => $"{a.Key}: {Value(a.Value)}");
        return $"{call.Name}({string.Join(", ", arguments)})";
    }

    /// <summary>The text a write, edit or command will use, when the one-line form cannot show it; else null.</summary>
    public static string? Preview(FunctionCallContent call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var arguments = call.Arguments ?? new Dictionary<string, object?>();
        string? Get(string key) => arguments.TryGetValue(key, out var value) ? Text(value) : null;
        return call.Name switch
        {
            "write_file" when Get("content") is { } content => Lines(content),
            "edit_file" => $"- {Lines(Get("old_text") ?? string.Empty).Replace("\n", "\n- ", StringComparison.Ordinal)}\n+ {Lines(Get("new_text") ?? string.Empty).Replace("\n", "\n+ ", StringComparison.Ordinal)}",
            "run_command" when Get("command") is { Length: > MaxValueChars } command => command,
            _ => null,
        };
    }

    /// <summary>Summarizes a tool's result in one short line.</summary>
    public static string Summarize(string result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var lines = result.TrimEnd('\n').Split('\n');
        var first = lines[0].Length > 100 ? lines[0][..100] + "…" : lines[0];
        return lines.Length > 1 ? $"{first} (+{lines.Length - 1} lines)" : first;
    }

    private static string Lines(string text)
    {
        var lines = text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        var shown = string.Join('\n', lines.Take(MaxPreviewLines));
        return lines.Length > MaxPreviewLines ? $"{shown}\n… ({lines.Length - MaxPreviewLines} more lines)" : shown;
    }

    private static string Value(object? value)
    {
        var text = Text(value);
        if (text is null)
        {
            return "null";
        }

        var isString = value is string || value is JsonElement { ValueKind: JsonValueKind.String };
        var oneLine = text.ReplaceLineEndings("⏎");
        if (oneLine.Length > MaxValueChars)
        {
            oneLine = $"{oneLine[..(MaxValueChars - 20)]}… ({text.Length} chars)";
        }

        return isString ? $"\"{oneLine}\"" : oneLine;
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        JsonElement e => e.GetRawText(),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => new StringBuilder().Append(value).ToString(),
    };
}
