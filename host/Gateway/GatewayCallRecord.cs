namespace Ally.Host.Gateway;

/// <summary>One call the gateway served: who asked, what answered, the tokens and how long it took.</summary>
/// <param name="Timestamp">When the request arrived.</param>
/// <param name="Provider">The provider that answered (the router's choice when it reports one).</param>
/// <param name="Model">The model that answered.</param>
/// <param name="Stream">Whether the answer was streamed.</param>
/// <param name="Outcome"><c>ok</c>, <c>cancelled</c> (the client went away), or the error code sent.</param>
/// <param name="Status">The HTTP status sent (200 for a stream that failed after its first piece).</param>
/// <param name="LatencyMs">Milliseconds from the request to the end of the answer.</param>
/// <param name="TimeToFirstTokenMs">Milliseconds to the first streamed piece; null when not streamed or none came.</param>
/// <param name="InputTokens">Prompt tokens, when known.</param>
/// <param name="OutputTokens">Completion tokens, when known (estimated when <paramref name="Estimated"/>).</param>
/// <param name="CachedInputTokens">Prompt tokens served from the provider's cache, when known.</param>
/// <param name="ReasoningTokens">Reasoning tokens, when known.</param>
/// <param name="Estimated">Whether the output tokens were estimated from the text because the provider never reported them (a cut stream).</param>
/// <param name="ClientKey">Which client key was used (<c>key1</c>, <c>key2</c>…, never the key), or <c>local</c>.</param>
/// <param name="User">The request's <c>user</c>, when sent.</param>
/// <param name="CostUsd">The cost the router reported, when any.</param>
internal sealed record GatewayCallRecord(
    DateTimeOffset Timestamp,
    string Provider,
    string Model,
    bool Stream,
    string Outcome,
    int Status,
    double LatencyMs,
    double? TimeToFirstTokenMs,
    long? InputTokens,
    long? OutputTokens,
    long? CachedInputTokens,
    long? ReasoningTokens,
    bool Estimated,
    string ClientKey,
    string? User,
    decimal? CostUsd);
