using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ally.Bench.Gateway;

/// <summary>
/// nginx as a plain reverse proxy in front of the fake upstream (<c>--through nginx</c>): the lightest gateway there is,
/// one more process and two more loopback hops and nothing else, so that what it adds is the floor that this machine
/// puts under any gateway. Needs nginx on the PATH or in /usr/sbin (Debian: <c>apt-get install nginx-light</c>).
/// </summary>
internal sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private NginxProxy(Process process, string folder, Uri chatUrl)
    {
        _process = process;
        _folder = folder;
        ChatUrl = chatUrl;
    }

    public Uri ChatUrl { get; }

    public static async Task<NginxProxy> StartAsync(Uri upstream, string? cpus)
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("--through nginx needs nginx (Debian: apt-get install nginx-light).");
        var folder = Directory.CreateTempSubdirectory("ally-bench-nginx-").FullName;
        var port = FreePort();
        // One worker per core as nginx is deployed; keep-alive connections to the upstream as Ally's pool keeps them;
        // no buffering, so that a stream's chunks pass at once; no access log (Ally's gateway writes none per request).
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            worker_processes {{(cpus is null ? "auto" : "1")}};
            daemon off;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path {{folder}}/body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
                upstream fake { server {{upstream.Host}}:{{upstream.Port}}; keepalive 1024; }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://fake;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_buffering off;
                        proxy_request_buffering off;
                    }
                }
            }
            """);
        var configPath = Path.Combine(folder, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardError = true };
        string[] command = cpus is null ? [nginx] : ["taskset", "-c", cpus, nginx];
        start.FileName = command[0];
        foreach (var argument in command.Skip(1).Concat(["-p", folder, "-c", configPath]))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start nginx");
        for (var waited = 0; !await AcceptsAsync(port); waited += 50)
        {
            if (process.HasExited || waited > 5000)
            {
                throw new InvalidOperationException($"nginx did not start: {await process.StandardError.ReadToEndAsync()}");
            }

            await Task.Delay(50);
        }

        return new NginxProxy(process, folder, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/v1/chat/completions")));
    }

    /// <summary>Gets the CPU time of nginx's master and worker processes so far, in ms (from /proc).</summary>
    public double CpuMs()
    {
        var ticks = 0L;
        foreach (var pid in new[] { _process.Id }.Concat(Children(_process.Id)))
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        return ticks * 10.0; // USER_HZ is 100 on Linux
    }

    /// <summary>Gets how many times nginx's processes have been switched out so far (voluntarily or not).</summary>
    public double ContextSwitches() => new[] { _process.Id }.Concat(Children(_process.Id)).Sum(ContextSwitchCounter.OfProcess);

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static IEnumerable<int> Children(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(path)
            ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))
            : [];
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
