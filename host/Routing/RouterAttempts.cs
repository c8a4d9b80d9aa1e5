using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Ally.Host.Routing;

/// <summary>Where the router puts the attempts of a call, and how they read as JSON.</summary>
internal static class RouterAttempts
{
    /// <summary>The key of the attempts in <c>ChatResponse.AdditionalProperties</c>, the last streamed update's, and <see cref="Exception.Data"/>.</summary>
    public const string Key = "ally.attempts";
    public const string ProviderKey = "ally.provider";
    public const string ModelKey = "ally.model";
    public const string CostKey = "ally.cost_usd";
    public const string RoleKey = "ally.role";
    public const string SessionKey = "ally.session_id";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _threadBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _threadWriter;

    /// <summary>Gets the attempts the router attached to a failure, or an empty list.</summary>
    public static IReadOnlyList<RouterAttempt> From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Data[Key] as IReadOnlyList<RouterAttempt> ?? [];
    }

    /// <summary>Writes <c>[{"provider","model","error","message","wait_seconds","latency_ms","status"}]</c>.</summary>
    public static void WriteJson(Utf8JsonWriter writer, IEnumerable<RouterAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(attempts);
        writer.WriteStartArray();
        foreach (var attempt in attempts)
        {
            writer.WriteStartObject();
            writer.WriteString("provider", attempt.Provider);
            WriteStringOrNull(writer, "model", attempt.Model);
            WriteStringOrNull(writer, "error", attempt.Error);
            WriteStringOrNull(writer, "message", attempt.Message);
            if (attempt.WaitSeconds is { } wait)
            {
                writer.WriteNumber("wait_seconds", Math.Round(wait, 3));
            }
            else
            {
                writer.WriteNull("wait_seconds");
            }

            writer.WriteNumber("latency_ms", attempt.LatencyMs);
            if (attempt.StatusCode is { } status)
            {
                writer.WriteNumber("status", status);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public static string ToJson(IEnumerable<RouterAttempt> attempts)
    {
        // Every routed call is recorded with its attempts: one buffer and writer per thread, and the string is the
        // only allocation (docs/gateway-benchmark.md).
        var buffer = _threadBuffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = _threadWriter;
        if (writer is null)
        {
            _threadWriter = writer = new Utf8JsonWriter(buffer);
        }
        else
        {
            writer.Reset(buffer);
        }

        try
        {
            WriteJson(writer, attempts);
            writer.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch
        {
            _threadWriter = null;
            throw;
        }
        finally
        {
            if (buffer.Capacity > 64 * 1024)
            {
                _threadBuffer = null;
                _threadWriter = null;
            }
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
