namespace Ally.Host.Cli;

/// <summary>What <c>ally -p</c> was asked to do.</summary>
internal sealed record PromptRequest(string? Prompt, string? Provider, string? Model, string Role, bool Stream, bool Json, bool NoTools)
{
    /// <summary>Gets the working folder the tools are confined to (default: the current folder).</summary>
    public string? Directory { get; init; }

    /// <summary>Gets <c>--allow-all-tools</c>.</summary>
    public bool AllowAllTools { get; init; }
}
