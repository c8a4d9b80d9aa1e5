using Ally.Abstractions;
using Ally.Host.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace Ally.Plugins.Cohere.Tests;

public sealed class CohereModelListingTests
{
    [Fact]
    public async Task ListModelsAsync_TwoPages_FollowsPageTokenAndReadsContextLength()
    {
        // Given a server that lists chat models over two pages
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(
            c => CohereWire.WriteJsonAsync(
                c,
                c.Request.Query.ContainsKey("page_token")
                    ? """{"models":[{"name":"command-r7b-12-2024","endpoints":["chat"],"finetuned":false,"context_length":128000,"features":["tools"]}]}"""
                    : """{"models":[{"name":"command-a-03-2025","endpoints":["chat","generate"],"finetuned":false,"context_length":256000,"tokenizer_url":"https://storage.googleapis.com/cohere-public/tokenizers/command-a-03-2025.json","default_endpoints":[],"features":["json_mode","tools"]},{"name":"command-r-08-2024","endpoints":["chat"],"context_length":132096}],"next_page_token":"page 2/=="}"""),
            ct);
        using var client = CohereWire.Client(server);
        var lister = client.GetService<IModelLister>()!;

        // When the models are listed
        var models = await lister.ListModelsAsync(ct);

        // Then both pages are read in order
        Assert.Equal(["command-a-03-2025", "command-r-08-2024", "command-r7b-12-2024"], models.Select(m => m.Id));
        Assert.Equal(256000, models[0].ContextWindow);
        Assert.Equal(128000, models[2].ContextWindow);

        // And the requests asked for chat models with the key in the header, the token escaped
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal("GET", requests[0].Method);
        Assert.Equal("/v1/models?endpoint=chat", requests[0].PathAndQuery);
        Assert.Equal("/v1/models?endpoint=chat&page_token=page%202%2F%3D%3D", requests[1].PathAndQuery);
        Assert.Equal($"Bearer {CohereWire.ApiKey}", requests[1].Headers["Authorization"]);
        Assert.All(requests, r => Assert.DoesNotContain(CohereWire.ApiKey, r.PathAndQuery, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListModelsAsync_Unauthorized_ThrowsAuthentication()
    {
        // Given a server that refuses the key
        var ct = TestContext.Current.CancellationToken;
        await using var server = await LoopbackServer.StartAsync(c => CohereWire.WriteJsonAsync(c, """{"message":"invalid api token"}""", 401), ct);
        using var client = CohereWire.Client(server);

        // When the models are listed
        var exception = await Assert.ThrowsAsync<ProviderException>(() => client.GetService<IModelLister>()!.ListModelsAsync(ct));

        // Then it is an authentication failure
        Assert.Equal(ProviderErrorKind.Authentication, exception.Kind);
        Assert.DoesNotContain(CohereWire.ApiKey, exception.ToString(), StringComparison.Ordinal);
    }
}
