namespace Ally.Host.Providers;

/// <summary>Whether a provider can be used now: its keys are set and its configuration is valid.</summary>
internal sealed record ProviderStatus(string State, IReadOnlyList<string> MissingEnvVars, string? Message)
{
    public const string Ready = "ready";
    public const string MissingEnv = "missing-env";
    public const string Invalid = "invalid";

    public bool IsReady => State == Ready;
}
