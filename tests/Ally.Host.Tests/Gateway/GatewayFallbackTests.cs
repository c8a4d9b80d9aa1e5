using System.ClientModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ally.Host.Gateway;
using Ally.Host.Tests.Fakes;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

/// <summary>
/// The gateway sends every call through the real router: config.json's <c>fallbacks</c> apply, cooldowns are
/// honoured, the answer names the provider that really served it, and the router's usage record says so too.
/// </summary>
public sealed class GatewayFallbackTests
{
    [Fact]
    public async Task CompleteChat_PrimaryFails_AnswerComesFromTheBackupAndSaysSo()
    {
        // Given a primary that is overloaded and a backup that answers, with the backup as config.json's fallback
        await using var primary = await LoopbackServer.StartAsync(c => FakeUpstreams.JsonAsync(c, """{"error":{"message":"Overloaded","type":"server_error"}}""", 503), TestContext.Current.CancellationToken);
        await using var backup = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("Hello from the backup", "backup-model"), TestContext.Current.CancellationToken);
        await using var gateway = await StartAsync(primary, backup);

        // When
        var result = await gateway.Sdk().GetChatClient("main/main-model").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);
        ChatCompletion completion = result;

        // Then the client gets the backup's answer, named as the backup, told that two providers were tried, and
        // the router's usage record names the backup with the primary's failure among its attempts
        Assert.Equal("Hello from the backup", completion.Content[0].Text);
        Assert.Equal("spare/backup-model", completion.Model);
        Assert.Single(primary.Requests);
        Assert.True(result.GetRawResponse().Headers.TryGetValue(ChatCompletionsEndpoint.AttemptsHeader, out var attempts));
        Assert.Equal("2", attempts);
        var record = Assert.Single(await gateway.RecordsAsync(TestContext.Current.CancellationToken));
        Assert.Equal("spare", record.Provider);
        Assert.Equal("backup-model", record.Model);
        Assert.Equal("ok", record.Outcome);
        Assert.Equal("gateway", record.Role);
        var tried = JsonDocument.Parse(record.AttemptsJson!).RootElement;
        Assert.Equal("main", tried[0].GetProperty("provider").GetString());
        Assert.Equal("overloaded", tried[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task CompleteChatStreaming_PrimaryFailsBeforeTheFirstPiece_BackupStreamsAndChunksNameIt()
    {
        // Given
        await using var primary = await LoopbackServer.StartAsync(c => FakeUpstreams.JsonAsync(c, """{"error":{"message":"Overloaded","type":"server_error"}}""", 503), TestContext.Current.CancellationToken);
        await using var backup = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("Streamed by the backup", "backup-model"), TestContext.Current.CancellationToken);
        await using var gateway = await StartAsync(primary, backup);
        var models = new HashSet<string>();
        var text = new System.Text.StringBuilder();

        // When
        await foreach (var update in gateway.Sdk().GetChatClient("main/main-model").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken))
        {
            models.Add(update.Model);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        // Then
        Assert.Equal("Streamed by the backup", text.ToString());
        Assert.Equal(["spare/backup-model"], models);
        Assert.Single(primary.Requests);
    }

    [Fact]
    public async Task CompleteChat_PrimaryCoolingDown_IsSkippedWithoutACall()
    {
        // Given a primary that answered 429, which puts it in cooldown (router.cooldown_seconds)
        await using var primary = await LoopbackServer.StartAsync(
            async context =>
            {
                context.Response.Headers["retry-after"] = "120";
                await FakeUpstreams.JsonAsync(context, """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""", 429);
            },
            TestContext.Current.CancellationToken);
        await using var backup = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("Hello from the backup", "backup-model"), TestContext.Current.CancellationToken);
        await using var gateway = await StartAsync(primary, backup);
        var chat = gateway.Sdk().GetChatClient("main/main-model");
        await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // When the next call names the primary again
        ChatCompletion second = await chat.CompleteChatAsync([new UserChatMessage("Hi again")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the primary is not called again: the backup answers, and the attempt says why the primary was skipped
        Assert.Equal("spare/backup-model", second.Model);
        Assert.Single(primary.Requests);
        Assert.Equal(2, backup.Requests.Count);
        Assert.Contains(gateway.Routers.Cooldowns, c => c.Provider == "main");
        var latest = (await gateway.RecordsAsync(TestContext.Current.CancellationToken))[0];
        var tried = JsonDocument.Parse(latest.AttemptsJson!).RootElement;
        Assert.Equal("cooldown", tried[0].GetProperty("error").GetString());
        Assert.Equal("main", tried[0].GetProperty("provider").GetString());
    }

    [Fact]
    public async Task CompleteChat_BudgetExhausted_Is402WithoutCallingTheProvider()
    {
        // Given a daily budget too small for any priced call
        await using var upstream = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI(), TestContext.Current.CancellationToken);
        await using var gateway = await TestGateway.StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)> { ["oai"] = ("openai-compatible", upstream, "FAKE_OPENAI_KEY", "gpt-4o-mini") },
            c =>
            {
                c["budget"] = new JsonObject { ["daily_usd"] = 0.01 };
                c["pricing"] = new JsonObject { ["oai/gpt-4o-mini"] = new JsonObject { ["input"] = 1000, ["output"] = 1000 } };
            },
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        var failure = await Assert.ThrowsAsync<ClientResultException>(() =>
            gateway.Sdk().GetChatClient("oai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(402, failure.Status);
        var error = JsonDocument.Parse(failure.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("budget_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("budget.daily_usd", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(upstream.Requests);
    }

    private static Task<TestGateway> StartAsync(LoopbackServer primary, LoopbackServer backup) =>
        TestGateway.StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)>
            {
                ["main"] = ("openai-compatible", primary, "FAKE_OPENAI_KEY", "main-model"),
                ["spare"] = ("openai-compatible", backup, "FAKE_BACKUP_KEY", "backup-model"),
            },
            c => c["fallbacks"] = new JsonArray("spare"),
            cancellationToken: TestContext.Current.CancellationToken);
}
