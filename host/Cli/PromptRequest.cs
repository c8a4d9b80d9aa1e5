namespace Ally.Host.Cli;

/// <summary>What <c>ally -p</c> was asked to do.</summary>
internal sealed record PromptRequest(string? Prompt, string? Provider, string? Model, string Role, bool Stream, bool Json, bool NoTools);
