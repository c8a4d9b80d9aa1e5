namespace Ally.Host.Providers;

/// <summary>What one model listing tells: the models (or the known list when it failed) and the provider's health.</summary>
internal sealed record ProviderProbeResult(ModelListing Listing, ProviderHealth Health);
