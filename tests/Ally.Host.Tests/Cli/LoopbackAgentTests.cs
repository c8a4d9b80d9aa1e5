using System.Text.Json;
using Ally.Host.Tests.Fakes;
using Ally.Host.Tests.Providers.OpenAI;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.Cli;

/// <summary>The agent end to end through the real OpenAI protocol client, against a loopback server.</summary>
public sealed class LoopbackAgentTests
{
    [Fact]
    public async Task Prompt_ServerAsksForAToolThenAnswers_TheToolRunsAndTheAnswerStreams()
    {
        // Given an OpenAI-compatible server that first streams a tool call, then an answer
        await using var server = await LoopbackServer.StartAsync(
            c => OpenAIWire.WriteSseAsync(c, c.Request.ContentLength is > 0 && ReadsToolResult(c)
                ? OpenAIWire.Sse(
                    OpenAIWire.Chunk("""{"role":"assistant","content":"The file says "}"""),
                    OpenAIWire.Chunk("""{"content":"hello."}"""),
                    OpenAIWire.Chunk("{}", "stop"),
                    OpenAIWire.UsageChunk(30, 4, 34))
                : OpenAIWire.Sse(
                    OpenAIWire.Chunk("""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read_file","arguments":""}}]}"""),
                    OpenAIWire.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":\"hello.txt\"}"}}]}"""),
                    OpenAIWire.Chunk("{}", "tool_calls"),
                    OpenAIWire.UsageChunk(20, 5, 25))),
            TestContext.Current.CancellationToken);
        using var cli = new CliRunner($$"""
            {
              "provider": "loop",
              "providers": { "loop": { "type": "openai-compatible", "base_url": "{{server.BaseAddress}}v1", "default_model": "loop-model" } }
            }
            """);
        File.WriteAllText(Path.Combine(cli.Work, "hello.txt"), "hello from the file");

        // When
        var (code, stdout, stderr) = await cli.RunAsync(["-p", "what does hello.txt say?", "-d", cli.Work]);

        // Then the answer streamed to stdout, and the server saw the tools, then the tool's result
        Assert.True(code == 0, stderr);
        Assert.Equal("The file says hello.\n", stdout);
        var requests = server.Requests.ToList();
        Assert.Equal(2, requests.Count);
        using var first = JsonDocument.Parse(requests[0].Body);
        Assert.Contains(first.RootElement.GetProperty("tools").EnumerateArray(), t => t.GetProperty("function").GetProperty("name").GetString() == "write_file");
        Assert.Equal("system", first.RootElement.GetProperty("messages")[0].GetProperty("role").GetString());
        using var second = JsonDocument.Parse(requests[1].Body);
        var toolMessage = second.RootElement.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal("call_1", toolMessage.GetProperty("tool_call_id").GetString());
        Assert.Contains("hello from the file", toolMessage.GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prompt_FetchUrlOfAPageThatMoved_TheToolFollowsTheRedirect()
    {
        // Given a server that is both an OpenAI-compatible provider asking for fetch_url and a web page that moved
        // (the providers' connection pool does not follow redirects, so the agent's web tool must not use it)
        LoopbackServer? self = null;
        await using var server = await LoopbackServer.StartAsync(
            async c =>
            {
                if (c.Request.Path == "/old")
                {
                    c.Response.Redirect("/new", permanent: true);
                    return;
                }

                if (c.Request.Path == "/new")
                {
                    c.Response.ContentType = "text/plain";
                    await c.Response.WriteAsync("the page moved here", c.RequestAborted);
                    return;
                }

                var arguments = JsonSerializer.Serialize(JsonSerializer.Serialize(new { url = self!.BaseAddress + "old" }));
                await OpenAIWire.WriteSseAsync(c, ReadsToolResult(c)
                    ? OpenAIWire.Sse(OpenAIWire.Chunk("""{"role":"assistant","content":"Done."}"""), OpenAIWire.Chunk("{}", "stop"))
                    : OpenAIWire.Sse(
                        OpenAIWire.Chunk($$$"""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"fetch_url","arguments":{{{arguments}}}}}]}"""),
                        OpenAIWire.Chunk("{}", "tool_calls")));
            },
            TestContext.Current.CancellationToken);
        self = server;
        using var cli = new CliRunner($$"""
            {
              "provider": "loop",
              "providers": { "loop": { "type": "openai-compatible", "base_url": "{{server.BaseAddress}}v1", "default_model": "loop-model" } },
              "tools": { "allow": ["fetch_url"] }
            }
            """);

        // When
        var (code, _, stderr) = await cli.RunAsync(["-p", "what is on the old page?", "-d", cli.Work]);

        // Then the tool followed the redirect and sent the moved page's text back to the model
        Assert.True(code == 0, stderr);
        Assert.Contains("/new", server.Requests.Select(r => r.PathAndQuery));
        using var second = JsonDocument.Parse(server.Requests.Last(r => r.PathAndQuery.StartsWith("/v1", StringComparison.Ordinal)).Body);
        var toolMessage = second.RootElement.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Contains("the page moved here", toolMessage.GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    private static bool ReadsToolResult(Microsoft.AspNetCore.Http.HttpContext context)
    {
        context.Request.Body.Position = 0;
        using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
        return reader.ReadToEnd().Contains("\"role\":\"tool\"", StringComparison.Ordinal);
    }
}
