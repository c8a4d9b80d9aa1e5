using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Ally.Bench.Gateway;

/// <summary>
/// YARP's forwarder as the whole gateway (<c>--through yarp</c>, run as <c>--role yarp</c>): Kestrel takes the request
/// and HttpClient relays its bytes to the upstream and the answer's bytes back, with nothing parsed, routed or
/// recorded. What it adds is the floor under any gateway built on Kestrel and HttpClient in this runtime, as nginx's
/// is the floor under any gateway at all.
/// </summary>
internal sealed class YarpRelay : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _invoker;

    private YarpRelay(WebApplication app, HttpMessageInvoker invoker, Uri chatUrl)
    {
        _app = app;
        _invoker = invoker;
        ChatUrl = chatUrl;
    }

    public Uri ChatUrl { get; }

    /// <param name="upstream">The upstream's base address.</param>
    /// <param name="inlineIo">Whether to run requests on the socket threads, as <c>gateway.inline_io</c> does for Ally's gateway.</param>
    public static async Task<YarpRelay> StartAsync(Uri upstream, bool inlineIo)
    {
        // The process-wide half of inline I/O, as ally serve sets it, before the first socket.
        Ally.Host.Gateway.GatewayHost.PrepareProcess(new Ally.Host.Gateway.GatewayOptions { InlineIo = inlineIo });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = inlineIo);
        builder.Services.AddHttpForwarder();
        var app = builder.Build();

        // The handler YARP's documentation recommends for direct forwarding: no proxy, redirects, cookies,
        // decompression or tracing headers.
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
        var destination = upstream.GetLeftPart(UriPartial.Authority) + "/";
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        app.Map("/{**path}", async (HttpContext context) =>
        {
            var error = await forwarder.SendAsync(context, destination, invoker, ForwarderRequestConfig.Empty, HttpTransformer.Empty);
            if (error != ForwarderError.None && !context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new YarpRelay(app, invoker, new Uri(new Uri(address + "/"), "v1/chat/completions"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _invoker.Dispose();
    }
}
