using Ally.Host.Configuration;
using Spectre.Console;

namespace Ally.Host.Agent;

/// <summary>
/// Ally's project workflow: the brainstormer turns an idea into a specification in Markdown files under
/// <c>spec/</c>, then the code_gen role builds the project from them with the tools.
/// </summary>
internal sealed partial class InteractiveChat
{
    internal const string SpecFolder = "spec";

    private async Task StartProjectAsync(string idea, CancellationToken cancellationToken)
    {
        if (idea.Length == 0)
        {
            idea = (await _editor.ReadMessageAsync("[bold magenta]What do you want to build?[/] ", cancellationToken))?.Trim() ?? string.Empty;
            if (idea.Length == 0)
            {
                _console.MarkupLine("[grey]No idea given; nothing started.[/]");
                return;
            }
        }

        StartNew(AllyRoles.Brainstormer, null, null);
        _project = ProjectStage.Brainstorming;
        _console.MarkupLineInterpolated($"[magenta]Project: the brainstormer ({_conversation.Provider}) will ask what matters, then write the specification to {SpecFolder}/. Type /build when it is written.[/]");
        await SendAsync(
            $"""
            I want to build: {idea}

            Help me turn this into a specification another agent can build from. First ask me the few questions that
            change the design, a handful at a time. When we agree, write the specification as Markdown files under
            {SpecFolder}/ in the working folder with the write_file tool: {SpecFolder}/overview.md (goals, users, scope, non-goals),
            {SpecFolder}/architecture.md (components, data, interfaces, technology choices and why) and {SpecFolder}/plan.md
            (implementation steps with acceptance criteria). Then tell me to type /build.
            """,
            cancellationToken);
    }

    private async Task BuildProjectAsync(CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_setup.Directory, SpecFolder);
        var specs = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.md", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_setup.Directory, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
            : [];
        if (specs.Count == 0)
        {
            _console.MarkupLineInterpolated($"[yellow]There is no specification in {SpecFolder}/ yet.[/] [grey]Start with /project IDEA, or write {SpecFolder}/*.md yourself.[/]");
            return;
        }

        StartNew(AllyRoles.CodeGen, null, null);
        _project = ProjectStage.Building;
        _console.MarkupLineInterpolated($"[magenta]Building from {string.Join(", ", specs)} with the code_gen role ({_conversation.Provider}).[/]");
        await SendAsync(
            $"""
            Build the project specified in {string.Join(", ", specs)}. Read every specification file first, then create
            the project in the working folder with your tools, following the plan step by step. Run the build or the
            tests when you can, and fix what fails. Finish with a short summary of what you built and how to run it.
            """,
            cancellationToken);
    }
}
