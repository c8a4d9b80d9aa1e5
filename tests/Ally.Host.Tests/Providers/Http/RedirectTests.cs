using Ally.Abstractions;
using Ally.Host.Providers;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Providers.Http;

/// <summary>
/// A provider that answers with a redirect (an http:// base_url behind a proxy that upgrades to https, an API that
/// moved) gets an error naming the new address and the setting to change, not a confusing 401 or 405 from following
/// the redirect without the API key.
/// </summary>
public sealed class RedirectTests
{
    private const string Secret = "query-secret-0123456789";

    public static TheoryData<string, int, bool> Cases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var protocol in new[] { "OpenAI", "Anthropic", "Gemini", "Ollama" })
        {
            data.Add(protocol, 301, false);
            data.Add(protocol, 308, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Redirect_IsNotFollowed_ErrorNamesNewAddressAndSetting(string protocolName, int status, bool streamed)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var protocol = Enum.Parse<ProviderProtocol>(protocolName);

        // Given a provider whose every address redirects to /moved (relative, with a query that must not be shown),
        // and whose /moved would fail if a client followed the redirect
        await using var server = await LoopbackServer.StartAsync(context =>
        {
            if (context.Request.Path.StartsWithSegments("/moved", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return Task.CompletedTask;
            }

            context.Response.StatusCode = status;
            context.Response.Headers.Location = $"/moved{context.Request.Path}?key={Secret}";
            return Task.CompletedTask;
        }, cancellationToken);
        using var client = ProtocolClientFactory.Create(protocol, new ProviderSettings
        {
            Name = "moved-provider",
            Model = "model-x",
            BaseUrl = server.BaseAddress,
            ApiKey = FakeProviderServer.Key,
        });

        // When a call is made
        var failure = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            if (streamed)
            {
                await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cancellationToken))
                {
                }
            }
            else
            {
                await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], cancellationToken: cancellationToken);
            }
        });

        // Then the redirect was not followed, and the error says where the provider moved and what to change
        Assert.Single(server.Requests);
        Assert.Equal(ProviderErrorKind.NotFound, failure.Kind);
        Assert.Equal(status, failure.StatusCode);
        Assert.Contains($"moved to {server.BaseAddress}moved/", failure.Message, StringComparison.Ordinal);
        Assert.Contains("providers.moved-provider.base_url", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeProviderServer.Key, failure.Message, StringComparison.Ordinal);
    }
}
