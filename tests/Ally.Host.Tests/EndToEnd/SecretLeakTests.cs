using System.Text;
using Ally.Host.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Tests.EndToEnd;

/// <summary>
/// Sets a recognisable key, drives every failure path through the built executable, and looks for the key in every
/// output, log file and database the runs leave behind.
/// </summary>
public sealed class SecretLeakTests : IDisposable
{
    private const string Secret = "sk-LEAKCHECK-7f3a9c1e5b2d4086";
    private readonly TestPluginFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task EveryFailurePath_NeverShowsTheKeyAnywhere()
    {
        // Given providers that fail in every way, several of them echoing the key back as some real servers do
        await using var server = await LoopbackServer.StartAsync(FailAsync, TestContext.Current.CancellationToken);
        var root = server.BaseAddress.ToString().TrimEnd('/');
        string[] behaviours = ["auth", "ratelimit", "overloaded", "server", "invalid", "context", "cut", "inband", "garbage"];
        var providers = string.Join(",\n", behaviours.SelectMany(b => new[]
        {
            $$"""  "oa-{{b}}": { "type": "openai-compatible", "base_url": "{{root}}/{{b}}/v1", "api_key_env": "LEAK_KEY", "default_model": "m" }""",
            $$"""  "an-{{b}}": { "type": "anthropic-compatible", "base_url": "{{root}}/{{b}}", "api_key_env": "LEAK_KEY", "default_model": "m" }""",
            $$"""  "ge-{{b}}": { "type": "gemini", "base_url": "{{root}}/{{b}}", "api_key_env": "LEAK_KEY", "default_model": "m" }""",
        }));
        _folder.WriteConfig($$"""{ "router": { "max_retries": 0, "max_retry_wait_seconds": 0 }, "providers": { {{providers}} } }""");
        _folder.WriteEnv($"LEAK_KEY={Secret}\n");

        // When each is asked, streamed and not, as JSON and as text, with --verbose (stack traces allowed)
        var outputs = new StringBuilder();
        foreach (var provider in behaviours.SelectMany(b => new[] { $"oa-{b}", $"an-{b}", $"ge-{b}" }))
        {
            foreach (var args in new[] { new[] { "-p", "hi", "--provider", provider, "--json", "--no-tools" }, ["-p", "hi", "--provider", provider, "--no-stream", "--verbose", "--no-tools"] })
            {
                var result = await AllyProcess.RunAsync(_folder.Root, args, cancellationToken: TestContext.Current.CancellationToken);
                Assert.NotEqual(0, result.ExitCode);
                Assert.DoesNotContain("\"kind\":\"config\"", result.StandardOutput, StringComparison.Ordinal);
                Assert.Contains(provider, result.StandardOutput + result.StandardError, StringComparison.Ordinal);
                outputs.Append(result.StandardOutput).Append(result.StandardError);
            }
        }

        foreach (var command in new[] { new[] { "providers", "--json" }, ["health", "--json"], ["models", "--json"], ["usage", "--json"] })
        {
            var result = await AllyProcess.RunAsync(_folder.Root, command, cancellationToken: TestContext.Current.CancellationToken);
            outputs.Append(result.StandardOutput).Append(result.StandardError);
        }

        // Then the key is nowhere: not in any output, nor in any file under ALLY_HOME (usage database, logs, sessions)
        Assert.DoesNotContain(Secret, outputs.ToString(), StringComparison.Ordinal);
        Assert.Contains("error", outputs.ToString(), StringComparison.Ordinal);
        var home = Path.Combine(_folder.Root, ".ally-home");
        Assert.True(Directory.Exists(home), "the runs should have written the usage database");
        foreach (var file in Directory.EnumerateFiles(home, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            Assert.False(Encoding.UTF8.GetString(bytes).Contains(Secret, StringComparison.Ordinal), $"{file} contains the key");
        }
    }

    private static async Task FailAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        var behaviour = path.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;
        var echo = $"Incorrect API key provided: {Secret}. You can find your API key at https://example.invalid?key={Secret}";
        switch (behaviour)
        {
            case "auth":
                await Json(context, 401, $$$"""{"error":{"message":"{{{echo}}}","type":"invalid_request_error","code":"invalid_api_key"}}""");
                break;
            case "ratelimit":
                context.Response.Headers["retry-after"] = "30";
                await Json(context, 429, $$$"""{"error":{"message":"Rate limit for key {{{Secret}}}","type":"requests","code":"rate_limit_exceeded"}}""");
                break;
            case "overloaded":
                await Json(context, 529, $$$"""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded {{{Secret}}}"}}""");
                break;
            case "server":
                await Json(context, 500, $"<html><body>Internal error for {Secret}</body></html>");
                break;
            case "invalid":
                await Json(context, 400, $$$"""{"error":{"code":400,"message":"API key not valid: {{{Secret}}}","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}""");
                break;
            case "context":
                await Json(context, 400, $$$"""{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long ({{{Secret}}})"}}""");
                break;
            case "cut":
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                context.Abort();
                break;
            case "inband":
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync($"event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"{echo}\"}}}}\n\ndata: {{\"error\":{{\"message\":\"{echo}\"}}}}\n\n", context.RequestAborted);
                break;
            default:
                await Json(context, 200, $"not json at all {Secret}");
                break;
        }
    }

    private static async Task Json(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
    }
}
