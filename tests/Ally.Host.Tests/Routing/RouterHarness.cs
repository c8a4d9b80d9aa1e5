using Ally.Host.Pricing;
using Ally.Host.Routing;
using Ally.Host.Usage;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Routing;

/// <summary>Builds routers over scripted providers with millisecond-scale waits, so that the suite stays fast.</summary>
internal static class RouterHarness
{
    /// <summary>Gets router options for tests: tiny backoff, a one-second cap on waits, generous timeouts.</summary>
    public static RouterOptions FastOptions { get; } = new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryWait = TimeSpan.FromSeconds(1),
        Cooldown = TimeSpan.FromSeconds(30),
        MaxRetries = 2,
        Timeout = TimeSpan.FromSeconds(30),
        FirstTokenTimeout = TimeSpan.FromSeconds(30),
        IdleTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Gets prices for the scripted providers: a/m1 and b/m1 have 8k windows, c/m1 a 128k window, d/m1 no price.</summary>
    public static PriceTable Prices { get; } = PriceTable.Create(
        new Dictionary<string, PriceEntry>
        {
            ["a/m1"] = new() { Input = 1, Output = 2, ContextWindow = 8_000 },
            ["b/m1"] = new() { Input = 3, Output = 6, ContextWindow = 8_000 },
            ["c/m1"] = new() { Input = 0.5m, Output = 1, ContextWindow = 128_000 },
        },
        baseTable: PriceTable.Empty);

    public static RouterChatClient Create(
        ScriptedProviderSource source,
        string[]? fallbacks = null,
        RouterOptions? options = null,
        TimeProvider? time = null,
        UsageStore? usage = null,
        BudgetOptions? budget = null,
        IReadOnlyDictionary<string, ProviderRouteOptions>? providers = null,
        PriceTable? prices = null,
        Random? random = null,
        string primary = "a",
        string? role = null)
    {
        var config = new RoutingConfig
        {
            Fallbacks = (fallbacks ?? ["b", "c"]).Select(f => RouteCandidate.TryParse(f)!).ToList(),
            Router = options ?? FastOptions,
            Budget = budget ?? new BudgetOptions(),
            Providers = providers ?? new Dictionary<string, ProviderRouteOptions>(StringComparer.OrdinalIgnoreCase),
        };
        var state = new RouterState(config, time, random);
        var guard = config.Budget.IsLimited ? new BudgetGuard(config.Budget, usage, state.TimeProvider) : null;
        return new RouterChatClient(source, RouteCandidate.TryParse(primary)!, state, prices ?? Prices, usage, guard, role);
    }

    public static async Task<ChatResponse> AskAsync(IChatClient router, bool streamed, ChatOptions? options = null, string prompt = "Hi", CancellationToken cancellationToken = default)
    {
        List<ChatMessage> messages = [new(ChatRole.User, prompt)];
        return streamed
            ? await router.GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken)
            : await router.GetResponseAsync(messages, options, cancellationToken);
    }

    public static IReadOnlyList<RouterAttempt> Attempts(ChatResponse response) =>
        (IReadOnlyList<RouterAttempt>)response.AdditionalProperties![RouterAttempts.Key]!;

    /// <summary>Waits for a condition that another thread makes true, failing after a generous bound.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(5, cancellationToken);
        }

        Assert.True(condition(), "The condition did not become true in time.");
    }
}
