namespace Ally.Host.Usage;

/// <summary>How <c>ally usage --by</c> groups the calls.</summary>
internal enum UsageGrouping
{
    Provider,
    Model,
    Day,
    Role,
}
