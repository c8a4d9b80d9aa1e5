namespace Ally.Host.Agent.Tools;

/// <summary>What the user answered when asked whether a tool may run.</summary>
internal enum PermissionChoice
{
    AllowOnce,
    Deny,
    AlwaysAllowTool,
    AlwaysAllowAll,
}
