namespace Ally.Plugins.Cohere;

/// <summary>One server-sent event: its <c>event:</c> name (or <c>message</c>) and its joined <c>data:</c> lines.</summary>
internal readonly record struct SseEvent(string EventType, string Data);
