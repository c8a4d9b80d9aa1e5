using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Ally.Host.Gateway;

/// <summary>
/// Guards <c>/v1</c> with the client keys and <c>/api</c> with the admin key. Without client keys <c>/v1</c> is open
/// (the gateway then listens on loopback only); without an admin key <c>/api</c> answers loopback clients only.
/// Requests authorized only by coming from this machine must also be addressed to a loopback name, which defeats
/// DNS rebinding, and every POST must be JSON, which a web page cannot send cross-site without a CORS preflight
/// that the gateway never grants.
/// </summary>
internal sealed class GatewayAuth
{
    private const string LocalClient = "local";

    private readonly byte[][] _clientKeyHashes;
    private readonly ClientKey[] _clientKeys;
    private readonly byte[]? _adminKeyHash;

    public GatewayAuth(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // Keys are kept only as SHA-256 digests: comparing digests of equal length in constant time reveals neither
        // a key's content nor its length.
        _clientKeyHashes = [.. options.ClientKeys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];
        _clientKeys = [.. options.ClientKeys.Select((_, i) => new ClientKey($"key{i + 1}"))];
        _adminKeyHash = options.AdminKey is { } admin ? SHA256.HashData(Encoding.UTF8.GetBytes(admin)) : null;
    }

    /// <summary>Gets the name of the client key a request used (<c>key1</c>…), or <c>local</c> when none is needed.</summary>
    public static string ClientKeyName(HttpContext context) => context.Features.Get<ClientKey>()?.Name ?? LocalClient;

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase))
        {
            if (_clientKeyHashes.Length == 0)
            {
                if (!IsLocal(context))
                {
                    return GatewayJson.WriteErrorAsync(context, GatewayErrors.ForeignHost);
                }
            }
            else
            {
                var index = Match(context, _clientKeyHashes);
                if (index < 0)
                {
                    return GatewayJson.WriteErrorAsync(context, GatewayErrors.InvalidKey);
                }

                context.Features.Set(_clientKeys[index]);
            }
        }
        else if (path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            if (_adminKeyHash is null)
            {
                if (!IsLocal(context))
                {
                    return GatewayJson.WriteErrorAsync(context, GatewayErrors.AdminLoopbackOnly);
                }
            }
            else if (Match(context, [_adminKeyHash]) < 0)
            {
                return GatewayJson.WriteErrorAsync(context, GatewayErrors.InvalidAdminKey);
            }
        }
        else
        {
            return next(context);
        }

        if (HttpMethods.IsPost(context.Request.Method) && !context.Request.HasJsonContentType())
        {
            return GatewayJson.WriteErrorAsync(context, GatewayErrors.NeedsJson);
        }

        return next(context);
    }

    private static bool IsLocal(HttpContext context)
    {
        if (context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
        {
            return false;
        }

        var host = context.Request.Host.Host;
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>Finds which key the bearer token is, comparing with every key in constant time; -1 when none.</summary>
    private static int Match(HttpContext context, byte[][] hashes)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (header.Length <= Scheme.Length || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        var token = header.AsSpan(Scheme.Length).Trim();
        var byteCount = Encoding.UTF8.GetByteCount(token);
        byte[]? rented = null;
        var bytes = byteCount <= 512 ? stackalloc byte[byteCount] : (rented = ArrayPool<byte>.Shared.Rent(byteCount)).AsSpan(0, byteCount);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        try
        {
            Encoding.UTF8.GetBytes(token, bytes);
            SHA256.HashData(bytes, digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        var found = -1;
        for (var i = 0; i < hashes.Length; i++)
        {
            // No early exit: the time taken does not depend on which key matched.
            if (CryptographicOperations.FixedTimeEquals(digest, hashes[i]))
            {
                found = i;
            }
        }

        return found;
    }
}
