using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.OpenAI;

/// <summary>Puts streamed tool call fragments back together into whole calls.</summary>
/// <remarks>
/// PROVIDER-QUIRKS.md: the id and name arrive only on a call's first delta, later deltas carry an index and an
/// arguments fragment; Mistral sends neither index nor type; some servers send index 0 for every call of a turn
/// while giving each a new id; some repeat the id on every fragment; a whole call can come in one delta. So a new
/// id starts a new call, a known id or index continues one, and a fragment with neither continues the latest.
/// </remarks>
internal sealed class OpenAIToolCallAccumulator
{
    private readonly List<PendingCall> _calls = [];
    private readonly Dictionary<int, PendingCall> _byIndex = [];
    private PendingCall? _legacy;

    public bool HasCalls => _calls.Count > 0;

    /// <summary>Adds one element of a delta's <c>tool_calls</c> array.</summary>
    public void Add(JsonElement toolCall)
    {
        if (toolCall.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        int? index = toolCall.TryGetProperty("index", out var indexElement) && indexElement.ValueKind == JsonValueKind.Number
            ? indexElement.GetInt32()
            : null;
        var id = OpenAIResponseParser.GetString(toolCall, "id");
        toolCall.TryGetProperty("function", out var function);

        PendingCall? call;
        if (!string.IsNullOrEmpty(id))
        {
            call = _calls.Find(c => c.Id == id);
            if (call is null)
            {
                call = new PendingCall(id);
                _calls.Add(call);
            }
        }
        else if (index is { } i && _byIndex.TryGetValue(i, out var known))
        {
            call = known;
        }
        else if (index is null && _calls.Count > 0)
        {
            call = _calls[^1];
        }
        else
        {
            call = new PendingCall(OpenAIResponseParser.NewCallId());
            _calls.Add(call);
        }

        if (index is { } idx)
        {
            _byIndex[idx] = call;
        }

        Append(call, function);
    }

    /// <summary>Adds a legacy <c>delta.function_call</c> fragment (the functions API: one call, no id).</summary>
    public void AddLegacy(JsonElement functionCall)
    {
        if (functionCall.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (_legacy is null)
        {
            _legacy = new PendingCall(OpenAIResponseParser.NewCallId());
            _calls.Add(_legacy);
        }

        Append(_legacy, functionCall);
    }

    /// <summary>Returns every call gathered so far, in the order they started, and forgets them.</summary>
    public List<AIContent> Drain()
    {
        var result = new List<AIContent>(_calls.Count);
        foreach (var call in _calls)
        {
            result.Add(OpenAIResponseParser.CreateFunctionCall(call.Id, call.Name ?? string.Empty, call.Arguments.ToString()));
        }

        _calls.Clear();
        _byIndex.Clear();
        _legacy = null;
        return result;
    }

    private static void Append(PendingCall call, JsonElement function)
    {
        if (function.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (string.IsNullOrEmpty(call.Name) && OpenAIResponseParser.GetString(function, "name") is { Length: > 0 } name)
        {
            call.Name = name;
        }

        call.Arguments.Append(OpenAIResponseParser.GetArguments(function));
    }

    private sealed class PendingCall(string id)
    {
        public string Id { get; } = id;

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
