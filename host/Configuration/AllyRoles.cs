namespace Ally.Host.Configuration;

/// <summary>The agent roles config.json configures, as in the original Ally.</summary>
internal static class AllyRoles
{
    public const string General = "general";
    public const string CodeGen = "code_gen";
    public const string Brainstormer = "brainstormer";
    public const string WebSearcher = "web_searcher";

    public static IReadOnlyList<string> All { get; } = [General, CodeGen, Brainstormer, WebSearcher];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
