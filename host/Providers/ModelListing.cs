using Ally.Abstractions;

namespace Ally.Host.Providers;

/// <summary>A provider's models and where the list came from: <c>api</c>, or <c>known</c> with a note saying why.</summary>
internal sealed record ModelListing(string Provider, string Source, string? Note, IReadOnlyList<ProviderModel> Models);
