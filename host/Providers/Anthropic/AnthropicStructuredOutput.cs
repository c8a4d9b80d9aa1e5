namespace Ally.Host.Providers.Anthropic;

/// <summary>The tool through which a JSON answer is requested, see <see cref="AnthropicRequestBuilder"/>.</summary>
/// <param name="ToolName">The tool's name; its <c>tool_use</c> input is the answer.</param>
/// <param name="Wrapped">Whether the schema was not an object and sits under a <c>value</c> property.</param>
internal sealed record AnthropicStructuredOutput(string ToolName, bool Wrapped)
{
    public const string WrapperProperty = "value";
}
