namespace Ally.Abstractions;

/// <summary>A future, incompatible shape of the contract, for the loader's version check.</summary>
public interface IProviderPlugin
{
    string Name { get; }

    Uri Endpoint { get; }
}
