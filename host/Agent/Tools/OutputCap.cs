using System.Text;

namespace Ally.Host.Agent.Tools;

/// <summary>Keeps tool output within what a model can use: the head and the tail, with a note of what was cut.</summary>
internal static class OutputCap
{
    public static string Apply(string text, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= maxChars)
        {
            return text;
        }

        var head = maxChars * 2 / 3;
        var tail = maxChars - head;
        return new StringBuilder(maxChars + 80)
            .Append(text, 0, head)
            .Append($"\n… [{text.Length - maxChars} characters cut] …\n")
            .Append(text, text.Length - tail, tail)
            .ToString();
    }
}
