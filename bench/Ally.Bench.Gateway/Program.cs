using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Ally.Bench.Gateway;
using Ally.Host.Configuration;
using Ally.Host.Gateway;
using Ally.Host.Logging;
using Ally.Host.Plugins;
using Ally.Host.Pricing;
using Ally.Host.Providers;
using Ally.Host.Routing;
using Ally.Host.Usage;
using Microsoft.Extensions.Logging;

// Usage: dotnet run -c Release --project bench/Ally.Bench.Gateway [-- --seconds 5 --concurrency 1,16,64]
var seconds = 5.0;
var recordUsage = !args.Contains("--no-usage");
var fileLog = !args.Contains("--no-log");
var viaRouter = !args.Contains("--no-router");
int[] levels = [1, 16, 64];
TimeSpan[] delays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(20)];
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--seconds")
    {
        seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
    }
    else if (args[i] == "--upstream-ms")
    {
        delays = [.. args[i + 1].Split(',').Select(s => TimeSpan.FromMilliseconds(double.Parse(s, CultureInfo.InvariantCulture)))];
    }
    else if (args[i] == "--concurrency")
    {
        levels = [.. args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
    }
}

var output = new StringBuilder();
void Line(string text = "")
{
    output.AppendLine(text);
    Out(text);
}

await using var upstream = await FakeUpstream.StartAsync();
var directory = Path.Combine(Path.GetTempPath(), "ally-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(directory);
const string ClientKey = "bench-client-key-0123456789abcdef";
var config = new JsonObject
{
    ["provider"] = "fake",
    ["providers"] = new JsonObject
    {
        ["fake"] = new JsonObject
        {
            ["type"] = "openai-compatible",
            ["base_url"] = new Uri(upstream.BaseAddress, "v1").ToString(),
            ["api_key_env"] = "FAKE_API_KEY",
            ["default_model"] = "gpt-4o-mini",
        },
    },
    ["gateway"] = new JsonObject { ["urls"] = new JsonArray("http://127.0.0.1:0"), ["keys"] = new JsonArray(ClientKey), ["max_concurrent_streams"] = 1024 },
};
var configPath = Path.Combine(directory, "config.json");
await File.WriteAllTextAsync(configPath, config.ToJsonString());
var values = new Dictionary<string, string>(StringComparer.Ordinal) { ["FAKE_API_KEY"] = "sk-bench-0123456789" };
var loaded = ConfigLoader.Load(configPath, currentDirectory: directory);
var environment = new AllyEnvironment(values, _ => null);
var registry = new ProviderRegistry(loaded, environment, PluginCatalog.Empty(loaded.PluginsDirectory));

// As `ally serve` builds it: the router over the shared client cache, recording every call in a SQLite usage store
// (here in a temp folder). --no-usage keeps the router but records nothing; --no-router calls the provider's client
// directly, as the gateway did before the router was wired in.
using var usage = new UsageStore(Path.Combine(directory, "ally.db"));
using var clients = new ProviderClientCache(registry);
var routing = RoutingConfig.Parse(loaded.Root, loaded.DisplayPath);
using var routers = new RouterFactory(clients, routing, PriceTable.Create(routing.Pricing), recordUsage ? usage : null, TimeProvider.System);
IGatewayClientFactory gatewayClients = viaRouter ? new RouterClientFactory(routers) : new DirectClientFactory(clients);

// Logging as `ally serve` has it: everything from Debug up goes to the daily file in the data folder (--no-log: none).
using var fileLogs = new FileLoggerProvider(Path.Combine(directory, "logs"), TimeProvider.System, LogLevel.Debug);
using var loggers = LoggerFactory.Create(logging =>
{
    logging.SetMinimumLevel(LogLevel.Trace);
    if (fileLog)
    {
        logging.AddProvider(fileLogs);
    }
});
await using var gateway = await GatewayHost.StartAsync(
    new GatewayServices { Registry = registry, Redactor = new SecretRedactor(values.Values), Clients = gatewayClients, Usage = usage, LoggerFactory = loggers },
    GatewayOptions.Read(loaded, environment));

var directUrl = new Uri(upstream.BaseAddress, "v1/chat/completions");
var gatewayUrl = new Uri(gateway.Addresses[0], "v1/chat/completions");
var directBody = Encoding.UTF8.GetBytes("""{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"temperature":0.2,"max_tokens":64}""");
var gatewayBody = Encoding.UTF8.GetBytes("""{"model":"fake/gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"temperature":0.2,"max_tokens":64}""");
var directStream = Encoding.UTF8.GetBytes("""{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello."}]}""");
var gatewayStream = Encoding.UTF8.GetBytes("""{"model":"fake/gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello."}]}""");

using var load = new LoadGenerator();
if (args.Contains("--alloc-profile"))
{
    using var profiler = new AllocationProfiler();
    await load.RunAsync("warmup", gatewayUrl, gatewayBody, ClientKey, 1, TimeSpan.FromSeconds(2));
    await load.RunAsync("warmup", directUrl, directBody, null, 1, TimeSpan.FromSeconds(1));
    profiler.Start();
    var direct = await load.RunAsync("direct", directUrl, directBody, null, 1, TimeSpan.FromSeconds(3));
    foreach (var (type, bytes) in profiler.Stop(25))
    {
        Out(string.Create(CultureInfo.InvariantCulture, $"direct  {bytes / (double)direct.LatenciesMs.Length,8:0} B/req  {type}"));
    }

    profiler.Start();
    var through = await load.RunAsync("gateway", gatewayUrl, gatewayBody, ClientKey, 1, TimeSpan.FromSeconds(3));
    foreach (var (type, bytes) in profiler.Stop(40))
    {
        Out(string.Create(CultureInfo.InvariantCulture, $"gateway {bytes / (double)through.LatenciesMs.Length,8:0} B/req  {type}"));
    }

    Out(string.Create(CultureInfo.InvariantCulture, $"whole process per request: direct {direct.AllocatedBytesPerRequest:0} B, gateway {through.AllocatedBytesPerRequest:0} B, added {through.AllocatedBytesPerRequest - direct.AllocatedBytesPerRequest:0} B ({through.RequestsPerSecond:0} gateway req/s at concurrency 1)"));

    return;
}

var duration = TimeSpan.FromSeconds(seconds);
var warmup = TimeSpan.FromSeconds(Math.Min(2, seconds));
using var process = Process.GetCurrentProcess();
process.Refresh();
var idleWorkingSet = process.WorkingSet64;

Line($"# Ally gateway benchmark ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription.Trim()}, {Environment.ProcessorCount} cores, workstation non-concurrent GC, {seconds:0.#} s per run; gateway path: {(viaRouter ? "router" : "provider client, no router")}{(viaRouter && !recordUsage ? ", no usage store" : viaRouter ? " + usage store" : string.Empty)}{(fileLog ? ", file log at Debug" : ", no log")})");
Line();
foreach (var delay in delays)
{
    FakeUpstream.Delay = delay;
    Line($"## Whole answers (non-streamed), upstream answering {Describe(delay)}: client-observed latency in ms");
    Line();
    Line("| concurrency | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | direct req/s | gateway req/s | gateway alloc/req (added) | errors |");
    Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var concurrency in levels)
    {
        await load.RunAsync("warmup", directUrl, directBody, null, concurrency, warmup);
        await load.RunAsync("warmup", gatewayUrl, gatewayBody, ClientKey, concurrency, warmup);
        var direct = await load.RunAsync("direct", directUrl, directBody, null, concurrency, duration);
        var through = await load.RunAsync("gateway", gatewayUrl, gatewayBody, ClientKey, concurrency, duration);
        Line(string.Create(CultureInfo.InvariantCulture,
            $"| {concurrency} | {direct.Percentile(50):0.000} | {through.Percentile(50):0.000} | **{through.Percentile(50) - direct.Percentile(50):0.000}** | {direct.Percentile(99):0.000} | {through.Percentile(99):0.000} | **{through.Percentile(99) - direct.Percentile(99):0.000}** | {direct.RequestsPerSecond:0} | {through.RequestsPerSecond:0} | {(through.AllocatedBytesPerRequest - direct.AllocatedBytesPerRequest) / 1024:0.0} KiB | {direct.Errors + through.Errors} |"));
        ReportErrors(direct, through);
    }

    Line();
    Line($"## Streams, upstream answering {Describe(delay)}: time to first token (first content chunk), ms");
    Line();
    Line("| concurrency | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | gateway streams/s | errors |");
    Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var concurrency in levels)
    {
        await load.RunFirstTokenAsync("warmup", directUrl, directStream, null, concurrency, warmup);
        await load.RunFirstTokenAsync("warmup", gatewayUrl, gatewayStream, ClientKey, concurrency, warmup);
        var direct = await load.RunFirstTokenAsync("direct", directUrl, directStream, null, concurrency, duration);
        var through = await load.RunFirstTokenAsync("gateway", gatewayUrl, gatewayStream, ClientKey, concurrency, duration);
        Line(string.Create(CultureInfo.InvariantCulture,
            $"| {concurrency} | {direct.Percentile(50):0.000} | {through.Percentile(50):0.000} | **{through.Percentile(50) - direct.Percentile(50):0.000}** | {direct.Percentile(99):0.000} | {through.Percentile(99):0.000} | **{through.Percentile(99) - direct.Percentile(99):0.000}** | {through.RequestsPerSecond:0} | {direct.Errors + through.Errors} |"));
        ReportErrors(direct, through);
    }
    Line();
}

process.Refresh();
var info = GC.GetGCMemoryInfo();
Line();
Line("## Memory (whole benchmark process: load generator, fake upstream and gateway)");
Line();
Line(string.Create(CultureInfo.InvariantCulture, $"- working set after start-up: {idleWorkingSet / 1048576.0:0.0} MiB; after the runs: {process.WorkingSet64 / 1048576.0:0.0} MiB (peak {process.PeakWorkingSet64 / 1048576.0:0.0} MiB)"));
Line(string.Create(CultureInfo.InvariantCulture, $"- GC heap after the runs: {info.HeapSizeBytes / 1048576.0:0.0} MiB; live after a full collection: {GC.GetTotalMemory(forceFullCollection: true) / 1048576.0:0.0} MiB; gen0/1/2 collections: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
await usage.FlushAsync();
var recorded = (await UsageReport.BuildAsync(usage, null, UsageGrouping.Provider)).Total.Calls;
Line(string.Create(CultureInfo.InvariantCulture, $"- calls recorded in the usage store: {recorded}"));

Directory.Delete(directory, recursive: true);

static string Describe(TimeSpan delay) => delay == TimeSpan.Zero ? "at once (saturating closed loop)" : $"after {delay.TotalMilliseconds:0} ms";

void ReportErrors(LoadResult direct, LoadResult through)
{
    foreach (var result in new[] { direct, through })
    {
        if (result.FirstError is { } error)
        {
            Out($"    ({result.Target}, concurrency {result.Concurrency}: {result.Errors} errors, first: {error})");
        }
    }
}

static void Out(string text)
{
#pragma warning disable RS0030 // a benchmark's console output is its report
    Console.WriteLine(text);
#pragma warning restore RS0030
}
