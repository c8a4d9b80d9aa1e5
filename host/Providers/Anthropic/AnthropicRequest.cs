using System.Text.Json.Nodes;

namespace Ally.Host.Providers.Anthropic;

/// <summary>A Messages API request body, and how to read the structured-output tool back from the answer.</summary>
/// <param name="Body">The JSON body to send to <c>/v1/messages</c>.</param>
/// <param name="StructuredOutput">The forced tool that carries the JSON answer, or <see langword="null"/>.</param>
internal sealed record AnthropicRequest(JsonObject Body, AnthropicStructuredOutput? StructuredOutput);
