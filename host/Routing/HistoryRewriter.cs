using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Ally.Host.Pricing;
using Microsoft.Extensions.AI;

namespace Ally.Host.Routing;

/// <summary>Normalises a conversation before it goes to another provider than the one that produced it.</summary>
/// <remarks>
/// Provider-neutral repairs only (PROVIDER-QUIRKS.md, "Across providers"); each protocol client still does its own
/// shaping (Anthropic's role alternation, Gemini's function-response grouping):
/// <list type="bullet">
/// <item>Tool call ids are not portable (<c>call_…</c>, <c>toolu_…</c>, Mistral's 9 characters, none at all from
/// Gemini and old Ollama): every call gets an id valid everywhere (Mistral's own form for Mistral), unique in the
/// conversation, and its result gets the same id.</item>
/// <item>Results follow their call: all results of an assistant turn go, in call order, into one tool message right
/// after it; a call without a result gets a placeholder result, and a result without a call becomes user text.</item>
/// <item>Reasoning from another provider is dropped (signatures and formats do not carry over).</item>
/// <item>Empty and whitespace-only text parts are dropped, and messages left empty.</item>
/// </list>
/// The router marks the messages it returns with <c>AdditionalProperties["ally.provider"]</c>; unmarked messages are
/// taken to come from the conversation's default source.
/// </remarks>
internal static partial class HistoryRewriter
{
    public const string SourceKey = "ally.provider";
    public const string MissingResult = "No result was recorded for this tool call.";

    /// <summary>Rewrites <paramref name="messages"/> for <paramref name="targetProvider"/>, or returns them unchanged when every message comes from it.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="targetProvider">The provider the conversation goes to.</param>
    /// <param name="defaultSource">The provider of messages without a mark, or <see langword="null"/> when unknown (then they are left as they are).</param>
    public static IReadOnlyList<ChatMessage> Rewrite(IReadOnlyList<ChatMessage> messages, string targetProvider, string? defaultSource)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentException.ThrowIfNullOrWhiteSpace(targetProvider);
        var target = PriceTable.NormaliseProvider(targetProvider);
        if (!AnyForeign(messages, target, defaultSource))
        {
            return messages;
        }

        var ids = AssignIds(messages, target);
        var output = new List<ChatMessage>(messages.Count + 2);
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.Tool)
            {
                // Results were moved next to their calls; what is left of a tool message is a result without a call.
                AddOrphans(output, message, ids);
                continue;
            }

            var foreign = IsForeign(message, target, defaultSource);
            var contents = new List<AIContent>(message.Contents.Count);
            var calls = new List<FunctionCallContent>();
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent text when string.IsNullOrWhiteSpace(text.Text):
                    case TextReasoningContent when foreign:
                        break;
                    case TextReasoningContent reasoning when string.IsNullOrWhiteSpace(reasoning.Text) && reasoning.ProtectedData is null:
                        break;
                    case FunctionCallContent call:
                        var copy = new FunctionCallContent(ids.CallIds[call], call.Name, call.Arguments)
                        {
                            Exception = call.Exception,
                            AdditionalProperties = call.AdditionalProperties,
                        };
                        contents.Add(copy);
                        calls.Add(copy);
                        break;
                    case FunctionResultContent:
                        // Emitted after the call it answers.
                        break;
                    default:
                        contents.Add(content);
                        break;
                }
            }

            if (contents.Count > 0)
            {
                output.Add(Copy(message, contents));
            }

            AddOrphans(output, message, ids, onlyResults: true);
            if (calls.Count > 0)
            {
                var results = calls.Select(c => ids.ResultsByNewId.TryGetValue(c.CallId, out var result)
                    ? new FunctionResultContent(c.CallId, result.Result) { Exception = result.Exception, AdditionalProperties = result.AdditionalProperties }
                    : new FunctionResultContent(c.CallId, MissingResult));
                output.Add(new ChatMessage(ChatRole.Tool, [.. results]));
            }
        }

        return output;
    }

    // A loop rather than Any with a lambda: this runs for every routed call, and the closure would be allocated each time.
    private static bool AnyForeign(IReadOnlyList<ChatMessage> messages, string target, string? defaultSource)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (IsForeign(messages[i], target, defaultSource))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsForeign(ChatMessage message, string target, string? defaultSource)
    {
        var source = message.AdditionalProperties?.TryGetValue(SourceKey, out var value) == true && value is string s ? s : defaultSource;
        return source is not null && PriceTable.NormaliseProvider(source) != target;
    }

    private static ChatMessage Copy(ChatMessage message, IList<AIContent> contents) => new(message.Role, contents)
    {
        AuthorName = message.AuthorName,
        MessageId = message.MessageId,
        CreatedAt = message.CreatedAt,
        AdditionalProperties = message.AdditionalProperties,
    };

    private static void AddOrphans(List<ChatMessage> output, ChatMessage message, IdMap ids, bool onlyResults = false)
    {
        var orphans = message.Contents.OfType<FunctionResultContent>().Where(r => !ids.MatchedResults.Contains(r)).ToList();
        var rest = onlyResults ? [] : message.Contents.Where(c => c is not FunctionResultContent && (c is not TextContent t || !string.IsNullOrWhiteSpace(t.Text))).ToList();
        if (orphans.Count == 0 && rest.Count == 0)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var orphan in orphans)
        {
            // No call to attach it to any more: keep what the tool said as plain text rather than lose it.
            text.Append("Result of an earlier tool call: ").Append(orphan.Result?.ToString()).AppendLine();
        }

        var contents = new List<AIContent>(rest);
        if (text.Length > 0)
        {
            contents.Insert(0, new TextContent(text.ToString().TrimEnd()));
        }

        output.Add(new ChatMessage(ChatRole.User, contents));
    }

    private static IdMap AssignIds(IReadOnlyList<ChatMessage> messages, string target)
    {
        var map = new IdMap();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Dictionary<string, Queue<string>>(StringComparer.Ordinal);
        var ordinal = 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is FunctionCallContent call)
                {
                    var id = MakeId(call.CallId, target, ordinal++, used);
                    map.CallIds[call] = id;
                    var key = call.CallId ?? string.Empty;
                    if (!pending.TryGetValue(key, out var queue))
                    {
                        pending[key] = queue = new Queue<string>();
                    }

                    queue.Enqueue(id);
                }
                else if (content is FunctionResultContent result &&
                         pending.TryGetValue(result.CallId ?? string.Empty, out var queue) &&
                         queue.TryDequeue(out var newId))
                {
                    // Ids repeat when a server numbers every call the same: results pair with calls in order.
                    map.ResultsByNewId[newId] = result;
                    map.MatchedResults.Add(result);
                }
            }
        }

        return map;
    }

    private static string MakeId(string? original, string target, int ordinal, HashSet<string> used)
    {
        var mistral = target == "mistral";
        var valid = original is not null && (mistral ? MistralId().IsMatch(original) : PortableId().IsMatch(original));
        var id = valid ? original! : Derive(original, ordinal, mistral, 0);
        for (var salt = 1; !used.Add(id); salt++)
        {
            id = Derive(original, ordinal, mistral, salt);
        }

        return id;
    }

    private static string Derive(string? original, int ordinal, bool mistral, int salt)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{original}\n{ordinal}\n{salt}"));
        if (!mistral)
        {
            return "call_" + Convert.ToHexStringLower(hash.AsSpan(0, 12));
        }

        // Mistral accepts exactly nine letters and digits.
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var chars = new char[9];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[hash[i] % alphabet.Length];
        }

        return new string(chars);
    }

    // OpenAI allows up to 40 characters; Anthropic allows letters, digits, '_' and '-'.
    [GeneratedRegex("^[A-Za-z0-9_-]{1,40}$", RegexOptions.CultureInvariant)]
    private static partial Regex PortableId();

    [GeneratedRegex("^[A-Za-z0-9]{9}$", RegexOptions.CultureInvariant)]
    private static partial Regex MistralId();

    private sealed class IdMap
    {
        public Dictionary<FunctionCallContent, string> CallIds { get; } = new(ReferenceEqualityComparer.Instance);

        public Dictionary<string, FunctionResultContent> ResultsByNewId { get; } = new(StringComparer.Ordinal);

        public HashSet<FunctionResultContent> MatchedResults { get; } = new(ReferenceEqualityComparer.Instance);
    }
}
