using Ally.Host.Agent;
using Ally.Host.Configuration;
using Ally.Host.Terminal;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Ally.Host.Cli;

/// <summary><c>ally</c> without <c>-p</c>: the interactive chat, after the first-run wizard when no provider is usable.</summary>
internal static class ChatCommand
{
    /// <summary>Returned when the wizard saved a provider: the command line composes the host again and reruns.</summary>
    public const int Restart = -1;

    public static async Task<int> RunAsync(CommandContext context, AgentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        if (context.Streams.IsInputRedirected || context.Streams.IsOutputRedirected)
        {
            throw new ConfigException(
                FirstRunWizard.IsNeeded(context.Registry, request.Role, request.Provider, request.Model)
                    ? "no provider is ready and there is no terminal to set one up: run 'ally' in a terminal once, or set a key in .env (see .env.example)."
                    : "the interactive chat needs a terminal (stdin or stdout is redirected); use ally -p \"prompt\" for one answer (text piped on stdin is added to it).");
        }

        var console = context.Services.GetRequiredService<IAnsiConsole>();
        if (request.ResumeId is null && !request.Continue)
        {
            var probe = context.Services.GetRequiredService<IProviderProbe>();
            var needed = FirstRunWizard.IsNeeded(context.Registry, request.Role, request.Provider, request.Model);
            var silent = needed ? null : await FirstRunWizard.SilentLocalServerAsync(context.Registry, probe, request.Role, request.Provider, request.Model, cancellationToken);
            if (needed || silent is not null)
            {
                var wizard = new FirstRunWizard(console, context.Registry, probe);
                return await wizard.RunAsync(silent, cancellationToken) ? Restart : ExitCodes.Usage;
            }
        }

        var setup = AgentComposition.Create(context, request);
        Conversation? resume = null;
        if (request.ResumeId is { } id)
        {
            resume = setup.Sessions.Load(id) ?? throw new ConfigException($"there is no session '{id}'; 'ally sessions' lists them.");
        }
        else if (request.Continue)
        {
            var last = setup.Sessions.LastId(setup.Directory) ?? throw new ConfigException($"there is no session in {setup.Directory} yet; start one with 'ally'.");
            resume = setup.Sessions.Load(last);
        }

        if (resume is not null && request.Provider is not null)
        {
            resume.Provider = context.Registry.Get(request.Provider).Name;
            resume.Model = request.Model ?? setup.DefaultModel(resume.Provider);
        }
        else if (resume is not null && request.Model is not null)
        {
            resume.Model = request.Model;
        }

        var interrupts = context.Services.GetRequiredService<IInterruptSignal>();
        if (interrupts is ConsoleInterruptSignal consoleSignal)
        {
            consoleSignal.Install();
        }

        var chat = new InteractiveChat(console, setup, interrupts, resume?.Role ?? request.Role, request.Provider, request.Model, detectPaste: true);
        await chat.RunAsync(resume, request.CreateProject ? "/project" : null, cancellationToken);
        return ExitCodes.Success;
    }
}
