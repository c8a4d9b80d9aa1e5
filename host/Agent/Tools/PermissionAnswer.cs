namespace Ally.Host.Agent.Tools;

/// <summary>The user's answer to a permission prompt, with the reason given for a denial.</summary>
internal sealed record PermissionAnswer(PermissionChoice Choice, string? Reason = null);
