namespace Ally.Host.Configuration;

/// <summary>What config.json selects for one role after inheritance: provider, model, temperature, system prompt.</summary>
internal sealed record RoleSelection(string Role, string? Provider, string? Model, double? Temperature, string? SystemPrompt);
