using Microsoft.Extensions.AI;

namespace Ally.Abstractions;

/// <summary>Represents an LLM provider that the Ally host can load, configure and call.</summary>
/// <remarks>
/// The host creates one instance of each plugin type at start-up and may call its members from several threads.
/// Only the first five members are required; the others have default implementations that a plugin may override.
/// </remarks>
public interface IProviderPlugin
{
    /// <summary>Gets the provider's name: the key used in config.json, lower case (for example <c>minimax</c>).</summary>
    string Name { get; }

    /// <summary>Gets the environment variables the provider needs before it can be used (for example <c>MINIMAX_API_KEY</c>).</summary>
    IReadOnlyList<string> RequiredEnvVars { get; }

    /// <summary>Gets the model used when neither config.json nor the command line names one, or <see langword="null"/>.</summary>
    string? DefaultModel { get; }

    /// <summary>Gets a human-readable name for listings; defaults to <see cref="Name"/>.</summary>
    string DisplayName => Name;

    /// <summary>Gets the models the provider is known to serve, shown when its API cannot list them.</summary>
    IReadOnlyList<string> KnownModels => [];

    /// <summary>Gets prices for the provider's models, which the host adds to its price table.</summary>
    IReadOnlyList<ModelPrice> Prices => [];

    /// <summary>Checks that the settings the host resolved are enough to create a client.</summary>
    /// <param name="settings">The settings resolved for this provider.</param>
    /// <returns><see cref="ProviderValidation.Success"/>, or a failure whose error says what to change.</returns>
    ProviderValidation ValidateConfig(ProviderSettings settings);

    /// <summary>Creates a chat client for the provider.</summary>
    /// <param name="settings">The settings resolved for this provider, already validated.</param>
    /// <returns>A chat client; the host owns it and disposes it.</returns>
    /// <remarks>
    /// The client may answer <see cref="IChatClient.GetService"/> for <see cref="IModelLister"/> to list models,
    /// and should throw <see cref="ProviderException"/> for failures so that the host can route around them.
    /// </remarks>
    IChatClient CreateClient(ProviderSettings settings);
}
