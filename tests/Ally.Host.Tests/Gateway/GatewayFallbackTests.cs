using Ally.Host.Tests.Fakes;
using OpenAI.Chat;

namespace Ally.Host.Tests.Gateway;

/// <summary>
/// Fallbacks belong to the router, which plugs in behind <c>IGatewayClientFactory</c>; these tests prove the seam
/// with a stand-in router: the gateway uses only the factory, and reports the provider that really answered.
/// </summary>
public sealed class GatewayFallbackTests
{
    [Fact]
    public async Task CompleteChat_PrimaryFails_AnswerComesFromTheBackupAndSaysSo()
    {
        // Given a primary that is overloaded and a backup that answers, behind a router-like factory
        await using var primary = await LoopbackServer.StartAsync(c => FakeUpstreams.JsonAsync(c, """{"error":{"message":"Overloaded","type":"server_error"}}""", 503), TestContext.Current.CancellationToken);
        await using var backup = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("Hello from the backup", "backup-model"), TestContext.Current.CancellationToken);
        FallbackClientFactory? factory = null;
        await using var gateway = await TestGateway.StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)>
            {
                ["main"] = ("openai-compatible", primary, "FAKE_OPENAI_KEY", "main-model"),
                ["spare"] = ("openai-compatible", backup, "FAKE_BACKUP_KEY", "backup-model"),
            },
            clients: registry => factory = new FallbackClientFactory(registry, "spare"),
            cancellationToken: TestContext.Current.CancellationToken);

        // When
        ChatCompletion completion = await gateway.Sdk().GetChatClient("main/main-model").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the client gets the backup's answer, named as the backup, and usage records the backup and its cost
        Assert.Equal("Hello from the backup", completion.Content[0].Text);
        Assert.Equal("spare/backup-model", completion.Model);
        Assert.Single(primary.Requests);
        Assert.Equal(["main/main-model"], factory!.Created);
        var record = Assert.Single(gateway.Usage.GetReport(null, 10).Recent);
        Assert.Equal("spare", record.Provider);
        Assert.Equal("backup-model", record.Model);
        Assert.Equal(0.0015m, record.CostUsd);
    }

    [Fact]
    public async Task CompleteChatStreaming_RouterServesFromAnotherProvider_ChunksNameIt()
    {
        // Given
        await using var primary = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI(), TestContext.Current.CancellationToken);
        await using var backup = await LoopbackServer.StartAsync(FakeUpstreams.OpenAI("Streamed by the backup", "backup-model"), TestContext.Current.CancellationToken);
        await using var gateway = await TestGateway.StartAsync(
            new Dictionary<string, (string, LoopbackServer, string, string)>
            {
                ["main"] = ("openai-compatible", primary, "FAKE_OPENAI_KEY", "main-model"),
                ["spare"] = ("openai-compatible", backup, "FAKE_BACKUP_KEY", "backup-model"),
            },
            clients: registry => new FallbackClientFactory(registry, "spare"),
            cancellationToken: TestContext.Current.CancellationToken);
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
    }
}
