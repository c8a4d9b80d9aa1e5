using Spectre.Console;

namespace Ally.Host.Terminal;

/// <summary>Creates the Spectre consoles over the process's real terminal.</summary>
internal static class TerminalConsoles
{
    /// <summary>The service key of the stderr console that one-shot mode asks permission on.</summary>
    public const string PromptKey = "prompt";

    /// <summary>The chat's console, on stdout.</summary>
    public static IAnsiConsole Stdout() =>
#pragma warning disable RS0030 // this is the terminal layer
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
#pragma warning restore RS0030

    /// <summary>A console on stderr, for prompts in one-shot mode where stdout carries the answer.</summary>
    public static IAnsiConsole Stderr() =>
#pragma warning disable RS0030 // this is the terminal layer
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
#pragma warning restore RS0030
}
