namespace Ally.Host.Gateway;

/// <summary>
/// The name of the client key a request came with (<c>key1</c>…), as a request feature: one shared instance per key,
/// so marking a request costs no allocation beyond Kestrel's feature slot (<c>HttpContext.Items</c> would build a
/// dictionary per request).
/// </summary>
internal sealed class ClientKey(string name)
{
    public string Name { get; } = name;
}
