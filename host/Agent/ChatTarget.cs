namespace Ally.Host.Agent;

/// <summary>What a chat client is wanted for: the role, the provider and model, the temperature and the session.</summary>
/// <param name="Role">The role (general, code_gen, brainstormer, web_searcher).</param>
/// <param name="Provider">The provider's name as the registry knows it.</param>
/// <param name="Model">The model, or null for the provider's default.</param>
/// <param name="Temperature">The temperature, or null for the provider's default.</param>
/// <param name="SessionId">The chat session the calls belong to, when there is one (for usage records).</param>
internal sealed record ChatTarget(string Role, string Provider, string? Model, double? Temperature, string? SessionId);
