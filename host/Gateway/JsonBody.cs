using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Ally.Host.Gateway;

/// <summary>
/// A parsed request body that still holds the request pipe's buffer: <see cref="JsonDocument"/> reads a
/// single-segment body in place, so the pipe may reuse that memory only after the document is disposed.
/// </summary>
internal sealed class JsonBody : IDisposable
{
    private readonly PipeReader _reader;
    private readonly SequencePosition _end;
    private bool _disposed;

    public JsonBody(JsonDocument document, PipeReader reader, SequencePosition end)
    {
        Document = document;
        _reader = reader;
        _end = end;
    }

    public JsonDocument Document { get; }

    public JsonElement Root => Document.RootElement;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Document.Dispose();
        _reader.AdvanceTo(_end);
    }
}
