using Ally.Abstractions;
using Ally.Host.Routing;
using Microsoft.Extensions.AI;
using static Ally.Host.Tests.Routing.RouterHarness;

namespace Ally.Host.Tests.Routing;

public sealed class RouterStreamingTests
{
    [Fact]
    public async Task GetStreamingResponse_FirstPieceArrives_BeforeTheProviderSendsTheRest()
    {
        // Given: the provider holds the second piece until the test has seen the first
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = new ScriptedProvider("a") { BetweenPieces = ct => gate.Task.WaitAsync(ct) };
        using var router = Create(new ScriptedProviderSource(a, new("b")));
        var text = "";

        // When
        await foreach (var update in router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            text += update.Text;
            if (text == "Hello")
            {
                // Then: the first piece reached the caller while the rest is held back
                gate.SetResult();
            }
        }

        Assert.Equal("Hello there", text);
    }

    [Fact]
    public async Task GetStreamingResponse_Completes_LastUpdateCarriesProviderModelCostAndAttempts()
    {
        // Given
        using var router = Create(new ScriptedProviderSource(new("a"), new("b")));
        var updates = new List<ChatResponseUpdate>();

        // When
        await foreach (var update in router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        // Then
        var last = updates[^1];
        Assert.Empty(last.Contents);
        Assert.Equal("a", last.AdditionalProperties![RouterAttempts.ProviderKey]);
        Assert.Equal(200m / 1_000_000m, last.AdditionalProperties[RouterAttempts.CostKey]);
        Assert.Single((IReadOnlyList<RouterAttempt>)last.AdditionalProperties[RouterAttempts.Key]!);
        Assert.Equal("Hello there", updates.ToChatResponse().Text);
    }

    [Fact]
    public async Task GetStreamingResponse_FailureBeforeFirstPiece_FallsBack()
    {
        // Given: a sends its role-only update, then fails
        var a = new ScriptedProvider("a") { Answer = "from a" };
        a.Failing(a.Error(ProviderErrorKind.Authentication, status: 401));
        var b = new ScriptedProvider("b") { Answer = "from b" };
        using var router = Create(new ScriptedProviderSource(a, b));

        // When
        var response = await AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("from b", response.Text);
    }

    [Theory]
    [InlineData(ProviderErrorKind.ServerError)]
    [InlineData(ProviderErrorKind.Overloaded)]
    [InlineData(ProviderErrorKind.TruncatedStream)]
    public async Task GetStreamingResponse_FailureAfterFirstPiece_EndsTruncatedWithPartialTextAndNoFallback(ProviderErrorKind kind)
    {
        // Given
        var a = new ScriptedProvider("a");
        a.FailAfterFirstPiece = a.Error(kind, status: 500);
        var b = new ScriptedProvider("b");
        using var router = Create(new ScriptedProviderSource(a, b));
        var received = "";

        // When
        var thrown = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
            {
                received += update.Text;
            }
        });

        // Then
        Assert.Equal(ProviderErrorKind.TruncatedStream, thrown.Kind);
        Assert.Equal("Hello", thrown.PartialText);
        Assert.Equal("Hello", received);
        Assert.Equal("a", thrown.Provider);
        Assert.Equal(1, a.Calls);
        Assert.Equal(0, b.Calls);
        var attempt = Assert.Single(RouterAttempts.From(thrown));
        Assert.Equal(ErrorKindNames.Of(kind), attempt.Error);
    }

    [Fact]
    public async Task GetStreamingResponse_StreamEndsWithoutContent_CompletesEmpty()
    {
        // Given
        var a = new ScriptedProvider("a") { Answer = "" };
        using var router = Create(new ScriptedProviderSource(a));

        // When
        var response = await AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("", response.Text);
        Assert.Equal("a", response.AdditionalProperties![RouterAttempts.ProviderKey]);
    }

    [Fact]
    public async Task GetStreamingResponse_CallerStopsReading_DoesNotFail()
    {
        // Given
        using var router = Create(new ScriptedProviderSource(new ScriptedProvider("a")));

        // When
        await foreach (var update in router.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            if (update.Text.Length > 0)
            {
                break;
            }
        }

        // Then: disposal ran without throwing, and the router still works
        var response = await AskAsync(router, streamed: true, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("Hello there", response.Text);
    }
}
