#!/usr/bin/env python3
"""CPU time (user and kernel), allocations and garbage collections per request of one gateway process, with
nothing else of the benchmark's in it: the benchmark's fake upstream and a gateway (Ally's, or YARP's forwarder)
as child processes, driven by plain Python HTTP clients with a 10 ms pause between requests.

    dotnet build -c Release bench/Ally.Bench.Gateway
    python3 bench/scripts/gateway-cpu.py ally [--inline-io] [--no-usage] [--no-log] [--no-router]
    python3 bench/scripts/gateway-cpu.py yarp [--inline-io]

Environment: CONCURRENCY (default 16), REQUESTS (default 8000, measured after 3000 of warm-up), STREAM=1 for
streamed answers, STRACE=1 to count the
gateway's system calls per request in the measured window (strace -c; slows the gateway, so its CPU figures are
not comparable), PERF=1 to record the measured window with `perf record -g` into /tmp/perf-<role>.data (start the
script with DOTNET_PerfMapEnabled=1 to name .NET methods), GATEWAY_ENV="NAME=VALUE ..." for the gateway's process
only (for example DOTNET_GCgen0size=0x2000000).
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

DLL = "bench/Ally.Bench.Gateway/bin/Release/net10.0/Ally.Bench.Gateway.dll"
KEY = "bench-client-key-0123456789abcdef"

kind = sys.argv[1] if len(sys.argv) > 1 else "ally"
flags = sys.argv[2:]
role = {"ally": "gateway", "yarp": "yarp"}[kind]
concurrency = int(os.environ.get("CONCURRENCY", "16"))
requests = int(os.environ.get("REQUESTS", "8000"))

upstream = subprocess.Popen(["dotnet", DLL, "--role", "upstream"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
upstream_url = upstream.stdout.readline().split()[1]
upstream.stdin.write("delay 20 10\n")
upstream.stdin.flush()
upstream.stdout.readline()

gateway_env = dict(os.environ)
for pair in os.environ.get("GATEWAY_ENV", "").split():
    name, value = pair.split("=", 1)
    gateway_env[name] = value
gateway = subprocess.Popen(["dotnet", DLL, "--role", role, "--upstream", upstream_url] + flags, env=gateway_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
url = urlparse(gateway.stdout.readline().split()[1])

request = {
    "model": "fake/gpt-4o-mini" if role == "gateway" else "gpt-4o-mini",
    "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}],
    "temperature": 0.2,
    "max_tokens": 64,
}
if os.environ.get("STREAM") == "1":
    request.update(stream=True, stream_options={"include_usage": True})
body = json.dumps(request).encode()


def worker(count):
    connection = http.client.HTTPConnection(url.hostname, url.port)
    for _ in range(count):
        connection.request("POST", url.path, body, {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        connection.getresponse().read()
        time.sleep(0.01)


def drive(total):
    threads = [threading.Thread(target=worker, args=(total // concurrency,)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total // concurrency * concurrency


def stats():
    gateway.stdin.write("stats\n")
    gateway.stdin.flush()
    return {k: float(v) for k, v in (pair.split("=") for pair in gateway.stdout.readline().split()[1:])}


def switches():
    """Context switches so far of each of the gateway's threads, by thread id: (name, count)."""
    result = {}
    for task in os.listdir(f"/proc/{gateway.pid}/task"):
        try:
            name = open(f"/proc/{gateway.pid}/task/{task}/comm").read().strip()
            status = dict(line.split(":\t", 1) for line in open(f"/proc/{gateway.pid}/task/{task}/status").read().splitlines() if "ctxt" in line)
            result[task] = (name, int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"]))
        except (OSError, KeyError, ValueError):
            pass
    return result


def cpu_ticks():
    fields = open(f"/proc/{gateway.pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


drive(3000)
time.sleep(1)
perf = None
if os.environ.get("PERF") == "1":
    perf = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-p", str(gateway.pid), "-o", f"/tmp/perf-{kind}.data"], stderr=subprocess.DEVNULL)
    time.sleep(2)
strace = None
if os.environ.get("STRACE") == "1":
    strace = subprocess.Popen(["strace", "-f", "-c", "-p", str(gateway.pid), "-o", f"/tmp/strace-{kind}.txt"], stderr=subprocess.DEVNULL)
    time.sleep(2)

before, ticks_before, switches_before, started = stats(), cpu_ticks(), switches(), time.time()
done = drive(requests)
after, ticks_after, switches_after, ended = stats(), cpu_ticks(), switches(), time.time()
if perf:
    perf.send_signal(2)
    perf.wait()
if strace:
    strace.send_signal(2)
    strace.wait()
    print(f"  system calls per request ({done} requests, /tmp/strace-{kind}.txt):")
    for line in open(f"/tmp/strace-{kind}.txt").read().splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 5 and parts[3].isdigit() and parts[-1] != "total":
            print(f"    {parts[-1]} {int(parts[3]) / done:.2f}")

hz = os.sysconf("SC_CLK_TCK")
delta = {k: after[k] - before[k] for k in after}
print(f"{kind} {' '.join(flags)} concurrency {concurrency}, {done} requests, {done / (ended - started):.0f}/s")
print(f"  CPU per request: user {(ticks_after[0] - ticks_before[0]) / hz / done * 1e6:.0f} us, kernel {(ticks_after[1] - ticks_before[1]) / hz / done * 1e6:.0f} us")
print(f"  allocated per request: {delta['allocated'] / done / 1024:.1f} KiB")
collections = delta["gen0"]
print(f"  collections: gen0 {collections:.0f}, gen1 {delta['gen1']:.0f}, gen2 {delta['gen2']:.0f}; paused {delta['gc_pause_ms']:.1f} ms in all"
      + (f" ({delta['gc_pause_ms'] / collections:.2f} ms each)" if collections else ""))

print(f"  thread-pool work items per request: {delta['tp_items'] / done:.2f}")
by_thread = sorted(((count - switches_before.get(task, (name, 0))[1], name) for task, (name, count) in switches_after.items()), reverse=True)
print(f"  context switches per request: {sum(n for n, _ in by_thread) / done:.1f}; busiest threads: "
      + ", ".join(f"{name} {n / done:.2f}" for n, name in by_thread[:5] if n))

for child in (gateway, upstream):
    child.stdin.write("quit\n")
    child.stdin.flush()
    child.wait(10)
