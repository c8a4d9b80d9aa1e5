using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ally.Bench.Gateway;

// Usage: dotnet run -c Release --project bench/Ally.Bench.Gateway [-- --seconds 5 --concurrency 1,16,64 --upstream-ms 0,20]
// --split: the gateway and the fake upstream each in a process of their own (this benchmark started again with
// --role gateway|upstream), so that the load generator's work does not share the gateway's thread pool and GC.
// --pin (implies --split): the gateway pinned to core 0, the load generator and the upstream to core 1 (taskset).
// --interleave: one run per row in which every worker alternates direct and gateway requests, with the per-pair
// difference (gateway minus the direct request just before it in the same worker) reported beside the percentiles,
// both as measured and net of the upstream's own time for each request (which the fake upstream writes into its answer).
// --upstream-jitter-ms J: each request's think time drawn uniformly from upstream-ms ± J (a model's time varies).
// --inline-io: the gateway with gateway.inline_io (request work on the socket threads; use with --split, since in one
// process the upstream's sockets start the runtime's socket engine before the gateway can ask for inline completions).
// --through nginx: nginx as a bare reverse proxy in place of Ally's gateway, the floor under any gateway here.
// --through yarp: YARP's forwarder (Kestrel + HttpClient relaying bytes) in its own process in place of Ally's gateway,
// the floor under any gateway built on this runtime's HTTP server and client (with --inline-io, on the socket threads).
var roleAt = Array.IndexOf(args, "--role");
if (roleAt >= 0 && roleAt < args.Length - 1)
{
    return await ChildRole.RunAsync(args[roleAt + 1], args);
}

var pin = args.Contains("--pin");
var split = pin || args.Contains("--split");
if (pin && Environment.GetEnvironmentVariable("ALLY_BENCH_PINNED") != "1")
{
    // Start again under taskset, so that every thread of the load generator (and the upstream it starts) stays on
    // core 1 from the first instruction; the gateway is then started on core 0.
    var again = new ProcessStartInfo { UseShellExecute = false };
    var command = ChildProcess.SelfCommand(LoadGeneratorCores);
    again.FileName = command[0];
    foreach (var argument in command.Skip(1).Concat(args))
    {
        again.ArgumentList.Add(argument);
    }

    again.Environment["ALLY_BENCH_PINNED"] = "1";
    using var pinned = Process.Start(again)!;
    await pinned.WaitForExitAsync();
    return pinned.ExitCode;
}

var seconds = 5.0;
var recordUsage = !args.Contains("--no-usage");
var fileLog = !args.Contains("--no-log");
var viaRouter = !args.Contains("--no-router");
var interleave = args.Contains("--interleave");
var inlineIo = args.Contains("--inline-io");
int[] levels = [1, 16, 64];
TimeSpan[] delays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(20)];
var jitter = TimeSpan.Zero;
var gatewayKind = "ally";
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
    else if (args[i] == "--through")
    {
        gatewayKind = args[i + 1];
    }
    else if (args[i] == "--upstream-jitter-ms")
    {
        jitter = TimeSpan.FromMilliseconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture));
    }
    else if (args[i] == "--concurrency")
    {
        levels = [.. args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
    }
}

if (gatewayKind is not ("ally" or "nginx" or "yarp"))
{
    Out($"--through takes ally (the default), nginx or yarp, not '{gatewayKind}'.");
    return 2;
}

// --through nginx measures nginx as a bare reverse proxy in place of Ally's gateway: the floor under any gateway here.
var nginx = gatewayKind == "nginx";
var yarp = gatewayKind == "yarp";
var relay = nginx || yarp; // a bare relay in place of Ally's gateway: the direct request bodies, nothing parsed
split |= yarp;
var ownProcess = split || nginx;
var output = new StringBuilder();
void Line(string text = "")
{
    output.AppendLine(text);
    Out(text);
}

// In one process (the default) the three parties share one thread pool and GC; with --split the upstream and the
// gateway are child processes and only their addresses, think time and counters cross the process boundary.
string[] gatewayFlags = [.. args.Where(a => a is "--no-usage" or "--no-log" or "--no-router" or "--inline-io")];
await using var upstreamChild = split ? await ChildProcess.StartAsync(null, "--role", "upstream") : null;
await using var upstream = split ? null : await FakeUpstream.StartAsync();
var upstreamBase = upstreamChild?.Address ?? upstream!.BaseAddress;
await using var gatewayChild = split && !nginx ? await ChildProcess.StartAsync(pin ? GatewayCores : null, ["--role", yarp ? "yarp" : "gateway", "--upstream", upstreamBase.ToString(), .. gatewayFlags]) : null;
await using var gateway = ownProcess ? null : await GatewayUnderTest.StartAsync(upstreamBase, viaRouter, recordUsage, fileLog, inlineIo);
await using var nginxProxy = nginx ? await NginxProxy.StartAsync(upstreamBase, pin ? GatewayCores : null) : null;
const string ClientKey = GatewayUnderTest.ClientKey;

var directUrl = new Uri(upstreamBase, "v1/chat/completions");
var gatewayUrl = nginxProxy?.ChatUrl ?? gatewayChild?.Address ?? gateway!.ChatUrl;
var directBody = Encoding.UTF8.GetBytes("""{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"temperature":0.2,"max_tokens":64}""");
var gatewayBody = relay ? directBody : Encoding.UTF8.GetBytes("""{"model":"fake/gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"temperature":0.2,"max_tokens":64}""");
var directStream = Encoding.UTF8.GetBytes("""{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello."}]}""");
var gatewayStream = relay ? directStream : Encoding.UTF8.GetBytes("""{"model":"fake/gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello."}]}""");
using var load = new LoadGenerator();
if (args.Contains("--alloc-profile"))
{
    if (ownProcess)
    {
        Out("--alloc-profile profiles the gateway in this process: run it without --split, --pin or --through nginx.");
        return 2;
    }

    // --alloc-profile --stream profiles streamed answers instead of whole ones.
    var (profiledDirect, profiledGateway) = args.Contains("--stream") ? (directStream, gatewayStream) : (directBody, gatewayBody);
    using var profiler = new AllocationProfiler();
    await load.RunAsync("warmup", gatewayUrl, profiledGateway, ClientKey, 1, TimeSpan.FromSeconds(2));
    await load.RunAsync("warmup", directUrl, profiledDirect, null, 1, TimeSpan.FromSeconds(1));
    profiler.Start();
    var direct = await load.RunAsync("direct", directUrl, profiledDirect, null, 1, TimeSpan.FromSeconds(3));
    foreach (var (type, bytes) in profiler.Stop(25))
    {
        Out(string.Create(CultureInfo.InvariantCulture, $"direct  {bytes / (double)direct.LatenciesMs.Length,8:0} B/req  {type}"));
    }

    profiler.Start();
    var through = await load.RunAsync("gateway", gatewayUrl, profiledGateway, ClientKey, 1, TimeSpan.FromSeconds(3));
    foreach (var (type, bytes) in profiler.Stop(40))
    {
        Out(string.Create(CultureInfo.InvariantCulture, $"gateway {bytes / (double)through.LatenciesMs.Length,8:0} B/req  {type}"));
    }

    Out(string.Create(CultureInfo.InvariantCulture, $"whole process per request: direct {direct.AllocatedBytesPerRequest:0} B, gateway {through.AllocatedBytesPerRequest:0} B, added {through.AllocatedBytesPerRequest - direct.AllocatedBytesPerRequest:0} B ({through.RequestsPerSecond:0} gateway req/s at concurrency 1)"));

    return 0;
}

var duration = TimeSpan.FromSeconds(seconds);
var warmup = TimeSpan.FromSeconds(Math.Min(2, seconds));
using var process = Process.GetCurrentProcess();
process.Refresh();
var idleWorkingSet = process.WorkingSet64;
var gatewayIdle = gatewayChild is null ? null : await gatewayChild.StatsAsync();

var layout = nginx
    ? $"nginx as the gateway ({(pin ? $"pinned to core {GatewayCores}, one worker" : "a worker per core")}), upstream {(split ? "in its own process" : "in the load generator's process")}"
    : !split
    ? "one process (load generator, upstream and gateway share one thread pool and GC)"
    : pin
        ? $"three processes, gateway pinned to core {GatewayCores} ({gatewayIdle!["cores"]:0} core seen), load generator and upstream pinned to core {LoadGeneratorCores}"
        : "three processes (load generator, upstream, gateway), not pinned";
Line($"# Ally gateway benchmark ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription.Trim()}, {Environment.ProcessorCount} cores seen by the load generator, workstation non-concurrent GC, {seconds:0.#} s per run; {layout}; gateway path: {(nginx ? "nginx proxy_pass, no buffering, keep-alive upstream" : yarp ? "YARP forwarder relaying bytes, nothing parsed" + (inlineIo ? ", inline I/O" : string.Empty) : (viaRouter ? "router" : "provider client, no router") + (viaRouter && !recordUsage ? ", no usage store" : viaRouter ? " + usage store" : string.Empty) + (fileLog ? ", file log at Debug" : ", no log") + (inlineIo ? ", gateway.inline_io" : string.Empty))}{(jitter > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"; upstream think time ±{jitter.TotalMilliseconds:0} ms") : string.Empty)})");
Line();

// In one process the allocations are the whole process's, gateway run minus direct run; split, they are the gateway
// process's own, with its CPU time.
async Task<(double Allocated, double CpuMs, double Switches)?> GatewayCountersAsync()
{
    if (nginxProxy is not null)
    {
        return (double.NaN, nginxProxy.CpuMs(), nginxProxy.ContextSwitches());
    }

    if (gatewayChild is null)
    {
        return null;
    }

    var stats = await gatewayChild.StatsAsync();
    return (stats["allocated"], stats["cpu_ms"], stats["switches"]);
}

string Cost((double Allocated, double CpuMs, double Switches) before, (double Allocated, double CpuMs, double Switches) after, int requests) =>
    string.Create(CultureInfo.InvariantCulture, $"{(double.IsNaN(after.Allocated) ? "-" : $"{(after.Allocated - before.Allocated) / requests / 1024:0.0} KiB")} | {(after.CpuMs - before.CpuMs) * 1000 / requests:0} | {(after.Switches - before.Switches) / requests:0.0}");

var costHeader = ownProcess ? "gateway process alloc/req | gateway CPU µs/req | gateway context switches/req" : "gateway alloc/req (added)";
var costAlign = ownProcess ? "---:|---:|---:" : "---:";
async Task<string> MeasureAsync(Func<Task<LoadResult>> gatewayRun, LoadResult direct, Action<LoadResult> keep)
{
    var before = await GatewayCountersAsync();
    var result = await gatewayRun();
    keep(result);
    if (before is null)
    {
        return string.Create(CultureInfo.InvariantCulture, $"{(result.AllocatedBytesPerRequest - direct.AllocatedBytesPerRequest) / 1024:0.0} KiB");
    }

    var after = await GatewayCountersAsync();
    return Cost(before.Value, after!.Value, Math.Max(1, result.LatenciesMs.Length));
}

// A gateway in service has long finished compiling its code; one that has just started spends a core for many
// seconds on tiered compilation (tier 0, instrumented, tier 1), which at a low request rate is most of its CPU and
// shows in every latency. So before any measured row, drive the gateway flat out (upstream answering at once,
// whole answers and streams) until a second of it compiles next to no new methods.
async Task<double> JitMethodsAsync() =>
    gatewayChild is not null ? (await gatewayChild.StatsAsync())["jit_methods"] : nginx ? 0 : System.Runtime.JitInfo.GetCompiledMethodCount();

// Each row's own warm-up runs at that row's load, until one round of it compiles fewer than 3 new methods (at most
// 10 rounds): a low request rate takes code paths a saturated one never does (socket waits that do not complete at
// once, idle threads and connections), and each of those methods is compiled on the first request that needs it.
async Task SettleAsync(Func<Task> warm)
{
    for (var round = 0; round < 10; round++)
    {
        var before = await JitMethodsAsync();
        await warm();
        if (round >= 1 && await JitMethodsAsync() - before < 3)
        {
            break;
        }
    }
}

await SetDelayAsync(TimeSpan.Zero);
var settleStarted = Stopwatch.GetTimestamp();
for (var round = 0; round < 60; round++)
{
    var before = await JitMethodsAsync();
    await load.RunAsync("warmup", gatewayUrl, gatewayBody, ClientKey, 16, TimeSpan.FromSeconds(0.5));
    await load.RunFirstTokenAsync("warmup", gatewayUrl, gatewayStream, ClientKey, 16, TimeSpan.FromSeconds(0.5));
    await load.RunAsync("warmup", directUrl, directBody, null, 16, TimeSpan.FromSeconds(0.25));
    if (round >= 3 && await JitMethodsAsync() - before < 5)
    {
        break;
    }
}

var jitAtStart = await JitMethodsAsync();

Line(string.Create(CultureInfo.InvariantCulture, $"Warm-up: the gateway driven flat out for {Stopwatch.GetElapsedTime(settleStarted).TotalSeconds:0} s, until a second of it compiled fewer than 5 new methods ({jitAtStart:0} methods compiled by then{(gatewayChild is null && !nginx ? ", in the whole process" : string.Empty)})."));
Line();

if (interleave)
{
    Line("Interleaved: in each row one run in which every worker alternates a direct and a gateway request; \"pair\" is each gateway latency minus the direct one just before it from the same worker (its p1, p50, p99).");
    Line();
}

async Task<string> MeasureInterleavedAsync(Func<Task<InterleavedResult>> run, Action<InterleavedResult> keep)
{
    var before = await GatewayCountersAsync();
    var result = await run();
    keep(result);
    if (before is null)
    {
        return string.Empty;
    }

    var after = await GatewayCountersAsync();
    return " " + Cost(before.Value, after!.Value, Math.Max(1, result.Gateway.LatenciesMs.Length)) + " |";
}

async Task InterleavedTableAsync(bool firstPiece, byte[] direct, byte[] through)
{
    var header = $"| concurrency | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | pair p1 | pair p50 | pair p99 | pairs | gateway req/s |{(ownProcess ? " gateway process alloc/req | gateway CPU µs/req | gateway context switches/req |" : string.Empty)} errors |";
    var align = $"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|{(ownProcess ? "---:|---:|---:|" : string.Empty)}---:|";
    Line(header);
    Line(align);
    var netRows = new List<string>();
    foreach (var concurrency in levels)
    {
        await SettleAsync(() => load.RunInterleavedAsync(directUrl, direct, gatewayUrl, through, ClientKey, concurrency, warmup, firstPiece));
        InterleavedResult r = null!;
        var cost = await MeasureInterleavedAsync(() => load.RunInterleavedAsync(directUrl, direct, gatewayUrl, through, ClientKey, concurrency, duration, firstPiece), x => r = x);
        Line(Row(concurrency, r.Direct, r.Gateway, r.Pairs, cost, r.Gateway.Errors));
        var (low, high) = r.NetAddedP99Interval();
        netRows.Add(Row(concurrency, r.NetDirect, r.NetGateway, r.NetPairs, cost, r.Gateway.Errors)
            + string.Create(CultureInfo.InvariantCulture, $" {low:0.000} to {high:0.000} |"));
        ReportErrors(r.Gateway);
    }

    Line();
    Line("Net of the upstream's own time (each latency less the time the upstream held that request, which it reports in the answer); the last column is a 95% bootstrap interval for the added p99:");
    Line();
    Line(header + " added p99, 95% interval |");
    Line(align + "---|");
    netRows.ForEach(Line);

    static string Row(int concurrency, LoadResult direct, LoadResult gateway, LoadResult pairs, string cost, int errors) => string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {direct.Percentile(50):0.000} | {gateway.Percentile(50):0.000} | **{gateway.Percentile(50) - direct.Percentile(50):0.000}** | {direct.Percentile(99):0.000} | {gateway.Percentile(99):0.000} | **{gateway.Percentile(99) - direct.Percentile(99):0.000}** | {pairs.Percentile(1):0.000} | {pairs.Percentile(50):0.000} | **{pairs.Percentile(99):0.000}** | {pairs.LatenciesMs.Length} | {gateway.RequestsPerSecond:0} |{cost} {errors} |");
}

foreach (var delay in delays.Where(_ => interleave))
{
    await SetDelayAsync(delay);

    Line($"## Whole answers (non-streamed), upstream answering {Describe(delay)}, interleaved: client-observed latency in ms");
    Line();
    await InterleavedTableAsync(firstPiece: false, directBody, gatewayBody);
    Line();
    Line($"## Streams, upstream answering {Describe(delay)}, interleaved: time to first token (first content chunk), ms");
    Line();
    await InterleavedTableAsync(firstPiece: true, directStream, gatewayStream);
    Line();
}

foreach (var delay in delays.Where(_ => !interleave))
{
    await SetDelayAsync(delay);

    Line($"## Whole answers (non-streamed), upstream answering {Describe(delay)}: client-observed latency in ms");
    Line();
    Line($"| concurrency | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | direct req/s | gateway req/s | {costHeader} | errors |");
    Line($"|---:|---:|---:|---:|---:|---:|---:|---:|---:|{costAlign}|---:|");
    foreach (var concurrency in levels)
    {
        await load.RunAsync("warmup", directUrl, directBody, null, concurrency, warmup);
        await SettleAsync(() => load.RunAsync("warmup", gatewayUrl, gatewayBody, ClientKey, concurrency, warmup));
        var direct = await load.RunAsync("direct", directUrl, directBody, null, concurrency, duration);
        LoadResult through = null!;
        var cost = await MeasureAsync(() => load.RunAsync("gateway", gatewayUrl, gatewayBody, ClientKey, concurrency, duration), direct, r => through = r);
        Line(string.Create(CultureInfo.InvariantCulture,
            $"| {concurrency} | {direct.Percentile(50):0.000} | {through.Percentile(50):0.000} | **{through.Percentile(50) - direct.Percentile(50):0.000}** | {direct.Percentile(99):0.000} | {through.Percentile(99):0.000} | **{through.Percentile(99) - direct.Percentile(99):0.000}** | {direct.RequestsPerSecond:0} | {through.RequestsPerSecond:0} | {cost} | {direct.Errors + through.Errors} |"));
        ReportErrors(direct, through);
    }

    Line();
    Line($"## Streams, upstream answering {Describe(delay)}: time to first token (first content chunk), ms");
    Line();
    Line($"| concurrency | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | gateway streams/s |{(ownProcess ? " gateway process alloc/stream | gateway CPU µs/stream | gateway context switches/stream |" : string.Empty)} errors |");
    Line($"|---:|---:|---:|---:|---:|---:|---:|---:|{(ownProcess ? "---:|---:|---:|" : string.Empty)}---:|");
    foreach (var concurrency in levels)
    {
        await load.RunFirstTokenAsync("warmup", directUrl, directStream, null, concurrency, warmup);
        await SettleAsync(() => load.RunFirstTokenAsync("warmup", gatewayUrl, gatewayStream, ClientKey, concurrency, warmup));
        var direct = await load.RunFirstTokenAsync("direct", directUrl, directStream, null, concurrency, duration);
        LoadResult through = null!;
        var cost = await MeasureAsync(() => load.RunFirstTokenAsync("gateway", gatewayUrl, gatewayStream, ClientKey, concurrency, duration), direct, r => through = r);
        Line(string.Create(CultureInfo.InvariantCulture,
            $"| {concurrency} | {direct.Percentile(50):0.000} | {through.Percentile(50):0.000} | **{through.Percentile(50) - direct.Percentile(50):0.000}** | {direct.Percentile(99):0.000} | {through.Percentile(99):0.000} | **{through.Percentile(99) - direct.Percentile(99):0.000}** | {through.RequestsPerSecond:0} |{(ownProcess ? $" {cost} |" : string.Empty)} {direct.Errors + through.Errors} |"));
        ReportErrors(direct, through);
    }

    Line();
}

process.Refresh();
Line();
if (!nginx)
{
    var compiled = await JitMethodsAsync() - jitAtStart;
    Line(string.Create(CultureInfo.InvariantCulture, $"Methods compiled from the first row's warm-up to the end (each row's warm-up included): {compiled:0}."));
}

if (load.AnswersWithoutHold > 0)
{
    Line($"Warning: {load.AnswersWithoutHold} answers carried no hold marker; their net latency is their whole latency.");
}

if (nginxProxy is not null)
{
    Line("(nginx's memory is not measured.)");
}
else if (gatewayChild is null)
{
    var info = GC.GetGCMemoryInfo();
    Line("## Memory (whole benchmark process: load generator, fake upstream and gateway)");
    Line();
    Line(string.Create(CultureInfo.InvariantCulture, $"- working set after start-up: {idleWorkingSet / 1048576.0:0.0} MiB; after the runs: {process.WorkingSet64 / 1048576.0:0.0} MiB (peak {process.PeakWorkingSet64 / 1048576.0:0.0} MiB)"));
    Line(string.Create(CultureInfo.InvariantCulture, $"- GC heap after the runs: {info.HeapSizeBytes / 1048576.0:0.0} MiB; live after a full collection: {GC.GetTotalMemory(forceFullCollection: true) / 1048576.0:0.0} MiB; gen0/1/2 collections: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
    var recorded = await gateway!.RecordedCallsAsync();
    Line(string.Create(CultureInfo.InvariantCulture, $"- calls recorded in the usage store: {recorded}"));
}
else
{
    var end = await gatewayChild.StatsAsync();
    var calls = await gatewayChild.RecordedCallsAsync();
    Line("## Memory (the gateway process alone)");
    Line();
    Line(string.Create(CultureInfo.InvariantCulture, $"- working set after start-up: {gatewayIdle!["working_set"] / 1048576.0:0.0} MiB; after the runs: {end["working_set"] / 1048576.0:0.0} MiB (peak {end["peak_working_set"] / 1048576.0:0.0} MiB)"));
    Line(string.Create(CultureInfo.InvariantCulture, $"- GC heap after the runs: {end["heap"] / 1048576.0:0.0} MiB; gen0/1/2 collections: {end["gen0"]:0}/{end["gen1"]:0}/{end["gen2"]:0}"));
    Line(string.Create(CultureInfo.InvariantCulture, $"- calls recorded in the usage store: {calls}"));
}

return 0;

async Task SetDelayAsync(TimeSpan delay)
{
    // The jitter applies to the rows with a think time; "at once" stays at once.
    var spread = delay > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(jitter.Ticks, delay.Ticks)) : TimeSpan.Zero;
    if (upstreamChild is null)
    {
        FakeUpstream.Delay = delay;
        FakeUpstream.Jitter = spread;
    }
    else
    {
        await upstreamChild.SendAsync(string.Create(CultureInfo.InvariantCulture, $"delay {delay.TotalMilliseconds} {spread.TotalMilliseconds}"));
    }
}

string Describe(TimeSpan delay) =>
    delay == TimeSpan.Zero ? "at once (saturating closed loop)"
    : jitter > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"after {Math.Max(0, (delay - jitter).TotalMilliseconds):0}-{(delay + jitter).TotalMilliseconds:0} ms (uniform, a new draw per request)")
    : $"after {delay.TotalMilliseconds:0} ms";

void ReportErrors(params LoadResult[] results)
{
    foreach (var result in results)
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

internal static partial class Program
{
    private const string GatewayCores = "0";
    private const string LoadGeneratorCores = "1";
}
