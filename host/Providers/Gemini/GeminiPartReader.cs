using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Gemini;

/// <summary>Converts the <c>parts</c> of one Gemini answer to MEAI contents, numbering function calls as it goes.</summary>
/// <remarks>One instance per response (or per stream): Gemini function calls carry no id, so ids are made up here.</remarks>
internal sealed class GeminiPartReader
{
    /// <summary>The key under which a part's <c>thoughtSignature</c> is kept in <see cref="AIContent.AdditionalProperties"/>.</summary>
    public const string ThoughtSignatureKey = "thoughtSignature";

    private readonly string _callIdPrefix = "call_" + Guid.NewGuid().ToString("N")[..8] + "_";
    private readonly StringBuilder _answerText = new();
    private int _callCount;

    /// <summary>Gets whether any function call was read; the finish reason is then ToolCalls whatever Gemini said.</summary>
    public bool SawFunctionCall { get; private set; }

    /// <summary>Gets the answer text read so far (reasoning excluded).</summary>
    public string AnswerText => _answerText.ToString();

    public void Read(JsonArray? parts, IList<AIContent> contents)
    {
        if (parts is null)
        {
            return;
        }

        foreach (var node in parts)
        {
            if (node is JsonObject part && ReadPart(part) is { } content)
            {
                contents.Add(content);
            }
        }
    }

    private AIContent? ReadPart(JsonObject part)
    {
        var signature = GeminiJson.GetString(part, "thoughtSignature");

        if (GeminiJson.GetObject(part, "functionCall") is { } call)
        {
            SawFunctionCall = true;
            var callId = GeminiJson.GetString(call, "id") is { Length: > 0 } id
                ? id
                : _callIdPrefix + (++_callCount).ToString(CultureInfo.InvariantCulture);
            var content = new FunctionCallContent(callId, GeminiJson.GetString(call, "name") ?? string.Empty, ReadArguments(call["args"]))
            {
                RawRepresentation = part,
            };
            if (signature is not null)
            {
                // Gemini 3 rejects a history whose function calls lost their signatures; keep it for the round trip.
                content.AdditionalProperties = new() { [ThoughtSignatureKey] = signature };
            }

            return content;
        }

        if (GeminiJson.GetString(part, "text") is { } text)
        {
            if (GeminiJson.GetBool(part, "thought"))
            {
                return text.Length == 0 && signature is null
                    ? null
                    : new TextReasoningContent(text) { ProtectedData = signature, RawRepresentation = part };
            }

            // Gemini 3 ends some streams with an empty text part that only carries a signature.
            if (text.Length == 0)
            {
                return null;
            }

            _answerText.Append(text);
            var content = new TextContent(text) { RawRepresentation = part };
            if (signature is not null)
            {
                content.AdditionalProperties = new() { [ThoughtSignatureKey] = signature };
            }

            return content;
        }

        if (GeminiJson.GetObject(part, "inlineData") is { } inline &&
            GeminiJson.GetString(inline, "data") is { } data)
        {
            var mediaType = GeminiJson.GetString(inline, "mimeType") ?? "application/octet-stream";
            try
            {
                return new DataContent(Convert.FromBase64String(data), mediaType) { RawRepresentation = part };
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    private static Dictionary<string, object?> ReadArguments(JsonNode? args)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (args is not JsonObject obj)
        {
            // Calls to functions without parameters may come with no args at all.
            return arguments;
        }

        using var document = JsonDocument.Parse(obj.ToJsonString());
        foreach (var property in document.RootElement.EnumerateObject())
        {
            arguments[property.Name] = property.Value.Clone();
        }

        return arguments;
    }
}
