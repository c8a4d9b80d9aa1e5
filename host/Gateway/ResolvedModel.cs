namespace Ally.Host.Gateway;

/// <summary>The provider and model a request's <c>model</c> names, and how the answer reports it (<c>provider/model</c>).</summary>
internal sealed record ResolvedModel(string Provider, string Model)
{
    public string Qualified { get; } = Provider + "/" + Model;
}
