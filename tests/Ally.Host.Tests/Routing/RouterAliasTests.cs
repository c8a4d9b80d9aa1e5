using Ally.Abstractions;
using Ally.Host.Routing;
using Ally.Host.Tests.Fakes;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

/// <summary>A provider named by an alias (<c>gemini</c> for <c>google</c>) is the same provider to the router.</summary>
public sealed class RouterAliasTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_AliasInFallbacksOfACoolingProvider_IsSkippedWithIt(bool streamed)
    {
        // Given: google answers 429 for two minutes; the chain names it again as gemini, with another model
        var google = new ScriptedProvider("google");
        google.Failing(google.Error(ProviderErrorKind.RateLimit, TimeSpan.FromMinutes(2), 429));
        var source = new ScriptedProviderSource(google, new("b")).WithAlias("gemini", "google");
        using var router = Create(source, primary: "google", fallbacks: ["gemini/m2", "b"], time: new FakeTimeProvider());

        // When
        var response = await AskAsync(router, streamed, cancellationToken: TestContext.Current.CancellationToken);

        // Then: one cooldown, under google, and gemini/m2 was not asked
        Assert.Equal(1, google.Calls);
        Assert.Equal("b", response.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(
            [("google", "rate_limit"), ("google", "cooldown"), ("b", (string?)null)],
            Attempts(response).Select(a => (a.Provider, a.Error)));
        Assert.Equal("google", Assert.Single(router.Cooldowns).Provider);
    }

    [Fact]
    public async Task GetResponse_PrimaryNamedByAlias_IsReportedAndCooledDownUnderTheProvidersName()
    {
        // Given: the call names gemini; its provider, google, is cooling down from an earlier call that named it google
        var google = new ScriptedProvider("google");
        google.Failing(google.Error(ProviderErrorKind.Authentication, status: 401));
        var source = new ScriptedProviderSource(google, new("b")).WithAlias("gemini", "google");
        var time = new FakeTimeProvider();
        using var first = Create(source, primary: "google", fallbacks: ["b"], time: time);
        await AskAsync(first, streamed: false, cancellationToken: TestContext.Current.CancellationToken);
        using var router = new RouterChatClient(source, new RouteCandidate("gemini", null), first.State, Prices);

        // When
        var response = await AskAsync(router, streamed: false, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal(1, google.Calls);
        Assert.Equal([("google", "cooldown"), ("b", (string?)null)], Attempts(response).Select(a => (a.Provider, a.Error)));
    }
}
