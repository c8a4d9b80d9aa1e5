using Microsoft.Extensions.AI;

namespace Ally.Host.Routing;

/// <summary>Gives the router a client for a provider, configured for a model.</summary>
/// <remarks>The source owns the clients it hands out; the router never disposes them. Must be thread-safe.</remarks>
internal interface IProviderClientSource
{
    /// <summary>Gets a client for <paramref name="provider"/> that uses <paramref name="model"/>, or the provider's default model when <see langword="null"/>.</summary>
    /// <exception cref="Configuration.ConfigException">When the provider is unknown or not configured.</exception>
    IChatClient GetClient(string provider, string? model);

    /// <summary>Gets the name <paramref name="provider"/> is registered under: an alias (<c>gemini</c>) gives its provider's name (<c>google</c>).</summary>
    /// <remarks>The router keeps cooldowns, circuits, rate limits, attempts and usage rows under this one name. A source without aliases returns the name unchanged.</remarks>
    string CanonicalName(string provider) => provider;
}
