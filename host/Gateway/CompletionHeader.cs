namespace Ally.Host.Gateway;

/// <summary>The fields every completion and chunk of one answer share.</summary>
/// <param name="Id">The answer's id, <c>chatcmpl-</c> and 32 hex digits.</param>
/// <param name="Created">Unix seconds when the request arrived.</param>
/// <param name="Model">The model as <c>provider/model</c>.</param>
internal readonly record struct CompletionHeader(string Id, long Created, string Model)
{
    public static string NewId() => string.Create(41, Guid.NewGuid(), static (span, guid) =>
    {
        "chatcmpl-".CopyTo(span);
        guid.TryFormat(span[9..], out _, "N");
    });
}
