"""Proxy throughput and added latency: wrk against the backend directly and through the plumego gateway, in
the same run, rounds interleaved.

Each server is uvicorn (httptools, uvloop, one worker, no access log) in its own process: the backend is
``bench.gateway_apps:backend``, the gateway ``bench.gateway_apps:gateway`` (x/gateway), once per upstream client
(``--upstreams aiohttp,httpx``: the default aiohttp pools and the httpx option, in the same run).
wrk runs with ``--latency``; requests/s and p50/p99 come from its report. The ratio is gateway/direct
throughput; "added" latency is gateway minus direct at the same percentile.
Run: PYTHONPATH=. python bench/gateway_bench.py [--duration 10] [--rounds 3] [--connections 32]
     [--backend backend|plumego_backend] [--delay-ms 0] [--upstreams aiohttp,httpx]
Needs wrk on PATH. Not a test: nothing is asserted; numbers depend on the machine (2 cores shared here).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from collections.abc import Iterator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), to report CPU per request independent of load."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _uvicorn(target: str, port: int, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", target, "--port", str(port), "--workers", "1",
                             "--log-level", "warning", "--no-access-log", "--http", "httptools", "--loop", "uvloop"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def _unit(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _wrk(url: str, duration: int, connections: int) -> tuple[float, float, float, int]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url + "/bench"],
                         capture_output=True, text=True, check=True).stdout
    if "Requests/sec" not in out or "50%" not in out:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _unit(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _unit(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    bad = int(errors.group(1)) if errors else 0
    if socket_errors:
        print("  wrk socket errors:", socket_errors.group(1))
    return rps, p50, p99, bad


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backend", default="backend", choices=["backend", "plumego_backend"])
    parser.add_argument("--delay-ms", type=float, default=0.0, help="the bare backend waits this long per request")
    parser.add_argument("--upstreams", default="aiohttp,httpx",
                        help="the gateway's upstream clients to measure, each in its own gateway process")
    args = parser.parse_args()
    upstreams = [u for u in args.upstreams.split(",") if u]
    backend_port = _free_port()
    print(f"backend: bench.gateway_apps:{args.backend} (delay {args.delay_ms} ms); "
          f"wrk -t1 -c{args.connections} -d{args.duration}s; gateway upstreams {upstreams}")
    delay = {"BENCH_DELAY_MS": str(args.delay_ms)}
    with contextlib.ExitStack() as stack:
        backend, backend_pid = stack.enter_context(_uvicorn(f"bench.gateway_apps:{args.backend}", backend_port, delay))
        targets: dict[str, tuple[str, int]] = {"direct": (backend, backend_pid)}
        for upstream in upstreams:
            targets[f"gw-{upstream}"] = stack.enter_context(_uvicorn(
                "bench.gateway_apps:gateway", _free_port(), {"BENCH_BACKEND": backend, "BENCH_UPSTREAM": upstream}))
        for url, _ in targets.values():                        # warm-up all
            _wrk(url, 2, args.connections)
        rows: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name in targets}
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        for r in range(args.rounds):
            for name, (url, pid) in targets.items():
                before = _cpu_seconds(pid)
                rows[name].append(_wrk(url, args.duration, args.connections))
                rps, p50, p99, bad = rows[name][-1]
                cpu[name].append((_cpu_seconds(pid) - before) / (rps * args.duration) * 1e6)
                print(f"round {r + 1} {name:12s} {rps:9.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                      f"non-2xx {bad}  CPU {cpu[name][-1]:.0f} us/req")
    med = {name: [statistics.median(v[i] for v in values) for i in range(3)] for name, values in rows.items()}
    d = med["direct"]
    print(f"median {'direct':12s} {d[0]:7.0f} req/s p50 {d[1]:.2f} ms p99 {d[2]:.2f} ms; "
          f"CPU per request {statistics.median(cpu['direct']):.0f} us (the backend's)")
    for name in targets:
        if name == "direct":
            continue
        g = med[name]
        print(f"median {name:12s} {g[0]:7.0f} req/s p50 {g[1]:.2f} ms p99 {g[2]:.2f} ms; "
              f"CPU per request {statistics.median(cpu[name]):.0f} us (the gateway's); "
              f"gateway/direct {g[0] / d[0]:.0%}, added p50 {g[1] - d[1]:.2f} ms, p99 {g[2] - d[2]:.2f} ms")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
