using System.Text;

namespace Ally.Host.Configuration;

/// <summary>
/// Sets variables in a <c>.env</c> file: an existing <c>KEY=</c> line is replaced in place, a new one appended, every
/// other line kept as it was. The file is made readable only by the user (mode 600), before the value is written.
/// </summary>
internal static class DotEnvWriter
{
    public static void Set(string path, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var lines = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n").Split('\n').ToList() : [];
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var remaining = new Dictionary<string, string>(values, StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i].TrimStart();
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && remaining.Remove(line[..equals].Trim(), out var value))
            {
                lines[i] = $"{line[..equals].Trim()}={Quote(value)}";
            }
        }

        foreach (var (key, value) in remaining)
        {
            lines.Add($"{key}={Quote(value)}");
        }

        if (!File.Exists(path))
        {
            using (File.Create(path))
            {
            }
        }

        AllyPaths.MakePrivate(path);
        File.WriteAllText(path, string.Join('\n', lines) + "\n", new UTF8Encoding(false));
    }

    private static string Quote(string value) =>
        value.Any(c => char.IsWhiteSpace(c) || c is '#' or '"' or '\'')
            ? "\"" + value.Replace("\"", "\\\"", StringComparison.Ordinal) + "\""
            : value;
}
