namespace Ally.Host.Tests.Providers.Anthropic;

/// <summary>A clock stopped at one instant; timers still run on the system clock.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
