using Ally.Host.Agent.Tools;
using Ally.Host.Providers.Http;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Agent.Tools;

public sealed class WebToolsTests
{
    [Fact]
    public async Task FetchUrl_Html_ReturnsReadableText()
    {
        // Given
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                c.Response.ContentType = "text/html; charset=utf-8";
                await c.Response.WriteAsync("<html><head><title>t</title><script>var x = 1;</script></head><body><h1>Hello</h1><p>Fish &amp; chips</p><style>p{}</style></body></html>", c.RequestAborted);
            },
            TestContext.Current.CancellationToken);
        using var http = new HttpClient();

        // When
        var text = await new WebTools(http).FetchUrl(server.BaseAddress + "page", TestContext.Current.CancellationToken);

        // Then
        Assert.Contains("Hello", text, StringComparison.Ordinal);
        Assert.Contains("Fish & chips", text, StringComparison.Ordinal);
        Assert.DoesNotContain("var x", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<p>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchUrl_WithTheAgentsPool_FollowsRedirect()
    {
        // Given a page that moved (the providers' pool does not follow redirects; the web tools' pool must)
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                if (c.Request.Path == "/old")
                {
                    c.Response.Redirect("/new", permanent: true);
                    return;
                }

                c.Response.ContentType = "text/plain";
                await c.Response.WriteAsync("moved here", c.RequestAborted);
            },
            TestContext.Current.CancellationToken);

        // When the agent's web pool fetches the old address
        var text = await new WebTools(SharedHttp.Web).FetchUrl(server.BaseAddress + "old", TestContext.Current.CancellationToken);

        // Then the tool read the page at the new one
        Assert.Contains("moved here", text, StringComparison.Ordinal);
        Assert.Equal(["/old", "/new"], server.Requests.Select(r => r.PathAndQuery));
    }

    [Fact]
    public async Task FetchUrl_HugeBody_IsCapped()
    {
        // Given a 5 MB text body
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                c.Response.ContentType = "text/plain";
                var chunk = new string('a', 100_000);
                for (var i = 0; i < 50; i++)
                {
                    await c.Response.WriteAsync(chunk, c.RequestAborted);
                }
            },
            TestContext.Current.CancellationToken);
        using var http = new HttpClient();

        // When
        var text = await new WebTools(http).FetchUrl(server.BaseAddress.ToString(), TestContext.Current.CancellationToken);

        // Then
        Assert.True(text.Length < WebTools.MaxChars + 200);
        Assert.Contains($"cut at {WebTools.MaxBytes} bytes", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchUrl_SlowServer_TimesOutWithAToolError()
    {
        // Given a server that never answers within the tool's timeout
        await using var server = await LoopbackServer.StartAsync(c => Task.Delay(TimeSpan.FromSeconds(30), c.RequestAborted), TestContext.Current.CancellationToken);
        using var http = new HttpClient();

        // When
        var error = await Assert.ThrowsAsync<ToolException>(() => new WebTools(http, TimeSpan.FromMilliseconds(300)).FetchUrl(server.BaseAddress.ToString(), TestContext.Current.CancellationToken));

        // Then
        Assert.Contains("did not answer", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("not a url")]
    public async Task FetchUrl_NotHttp_IsRefused(string url)
    {
        // Given
        using var http = new HttpClient();

        // When / Then
        await Assert.ThrowsAsync<ToolException>(() => new WebTools(http).FetchUrl(url, TestContext.Current.CancellationToken));
    }
}
