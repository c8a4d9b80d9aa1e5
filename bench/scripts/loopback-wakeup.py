#!/usr/bin/env python3
"""The machine's own floor under any gateway: one loopback TCP round trip between two processes, back to back and
after the peer has slept for 1 ms and 20 ms. A gateway adds two such hops to every call (client -> gateway ->
upstream and back), and after an idle gap each hop pays for waking a sleeping process (on a VM, a halted vCPU).

    python3 bench/scripts/loopback-wakeup.py
"""
import os
import socket
import time

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(1)
port = server.getsockname()[1]
if os.fork() == 0:
    peer, _ = server.accept()
    peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        byte = peer.recv(1)
        if not byte:
            os._exit(0)
        peer.sendall(byte)

client = socket.create_connection(("127.0.0.1", port))
client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for gap in (0, 0.001, 0.02):
    times = []
    for _ in range(5000 if gap == 0 else 500):
        if gap:
            time.sleep(gap)
        start = time.perf_counter()
        client.sendall(b"x")
        client.recv(1)
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    print(f"after {gap * 1000:4.0f} ms idle: round trip p50 {times[len(times) // 2]:6.0f} us, p99 {times[int(len(times) * 0.99)]:6.0f} us ({len(times)} round trips)")
client.close()
