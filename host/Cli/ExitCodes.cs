namespace Ally.Host.Cli;

/// <summary>Process exit codes: 0 success, 1 runtime failure, 2 configuration or usage error.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
