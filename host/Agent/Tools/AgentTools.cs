using Microsoft.Extensions.AI;

namespace Ally.Host.Agent.Tools;

/// <summary>Builds the tools the agent gives to models, confined to one working folder.</summary>
internal static class AgentTools
{
    public const string ReadFile = "read_file";
    public const string WriteFile = "write_file";
    public const string EditFile = "edit_file";
    public const string DeleteFile = "delete_file";
    public const string ListDirectory = "list_directory";
    public const string FindFiles = "find_files";
    public const string SearchText = "search_text";
    public const string RunCommand = "run_command";
    public const string GitStatus = "git_status";
    public const string GitDiff = "git_diff";
    public const string GitLog = "git_log";
    public const string FetchUrl = "fetch_url";

    /// <summary>Gets the tools that only read, which config.json's <c>tools.allow</c> lets run without asking by default.</summary>
    public static IReadOnlyList<string> ReadOnly { get; } = [ReadFile, ListDirectory, FindFiles, SearchText, GitStatus, GitDiff, GitLog];

    /// <summary>Gets the name of every tool.</summary>
    public static IReadOnlyList<string> Names { get; } = [ReadFile, WriteFile, EditFile, DeleteFile, ListDirectory, FindFiles, SearchText, RunCommand, GitStatus, GitDiff, GitLog, FetchUrl];

    public static IReadOnlyList<AIFunction> Create(Workspace workspace, ShellRunner shell, HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var files = new FileTools(workspace);
        var search = new SearchTools(workspace);
        var shellTools = new ShellTools(shell);
        var web = new WebTools(http);
        return
        [
            Make(files.ReadFile, ReadFile),
            Make(files.WriteFile, WriteFile),
            Make(files.EditFile, EditFile),
            Make(files.DeleteFile, DeleteFile),
            Make(files.ListDirectory, ListDirectory),
            Make(search.FindFiles, FindFiles),
            Make(search.SearchText, SearchText),
            Make(shellTools.RunCommand, RunCommand),
            Make(shellTools.GitStatus, GitStatus),
            Make(shellTools.GitDiff, GitDiff),
            Make(shellTools.GitLog, GitLog),
            Make(web.FetchUrl, FetchUrl),
        ];
    }

    private static AIFunction Make(Delegate method, string name) =>
        AIFunctionFactory.Create(method, new AIFunctionFactoryOptions { Name = name });
}
