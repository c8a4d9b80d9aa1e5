using System.Runtime.CompilerServices;
using Ally.Abstractions;
using Ally.Host.Gateway;
using Ally.Host.Providers;
using Microsoft.Extensions.AI;

namespace Ally.Host.Tests.Gateway;

/// <summary>
/// A stand-in for the router behind <see cref="IGatewayClientFactory"/>: tries the asked provider, then a backup,
/// and reports what served the call in the properties the router will set (<c>ally.provider</c>, <c>ally.model</c>,
/// <c>ally.attempts</c>, <c>ally.cost_usd</c>).
/// </summary>
internal sealed class FallbackClientFactory : IGatewayClientFactory
{
    private readonly ProviderRegistry _registry;
    private readonly string _backup;

    public FallbackClientFactory(ProviderRegistry registry, string backup)
    {
        _registry = registry;
        _backup = backup;
    }

    public List<string> Created { get; } = [];

    public IChatClient Create(string provider, string? model)
    {
        lock (Created)
        {
            Created.Add(provider + "/" + model);
        }

        return new FallbackClient(_registry.CreateClient(provider, model), provider, _registry.CreateClient(_backup), _backup, _registry.ResolveSettings(_registry.Get(_backup)).Model!);
    }

    private sealed class FallbackClient(IChatClient primary, string primaryName, IChatClient backup, string backupName, string backupModel) : IChatClient
    {
        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            try
            {
                var response = await primary.GetResponseAsync(messages, options, cancellationToken);
                Tag(response.AdditionalProperties ??= [], primaryName, response.ModelId ?? options?.ModelId, 1);
                return response;
            }
            catch (ProviderException)
            {
                var fallbackOptions = options?.Clone() ?? new ChatOptions();
                fallbackOptions.ModelId = backupModel;
                var response = await backup.GetResponseAsync(messages, fallbackOptions, cancellationToken);
                Tag(response.AdditionalProperties ??= [], backupName, backupModel, 2);
                return response;
            }
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var fallbackOptions = options?.Clone() ?? new ChatOptions();
            fallbackOptions.ModelId = backupModel;
            await foreach (var update in backup.GetStreamingResponseAsync(messages, fallbackOptions, cancellationToken))
            {
                Tag(update.AdditionalProperties ??= [], backupName, backupModel, 2);
                yield return update;
            }

            _ = primary;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => primary.GetService(serviceType, serviceKey);

        public void Dispose()
        {
        }

        private static void Tag(AdditionalPropertiesDictionary properties, string provider, string? model, int attempts)
        {
            properties["ally.provider"] = provider;
            properties["ally.model"] = model;
            properties["ally.attempts"] = attempts;
            properties["ally.cost_usd"] = 0.0015m;
        }
    }
}
