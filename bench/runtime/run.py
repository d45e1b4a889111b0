"""Load harness: every app under the same uvicorn settings, measured with wrk. Not a test.

Per app: ``taskset -c 0 uvicorn apps:app --workers 1 --loop uvloop --http httptools`` on 127.0.0.1 (wrk on
CPU1), for N_ROUTES=100 then 1000. Each cell: quiet gate (foreign CPU < 10 % over 1 s, waits up to
``--gate-wait`` s), 3 s warm-up (discarded), ``--duration`` s measured at c=64 (``wrk -t1 -c64 --latency``).
Cells: hello JSON; the last of 100 / of 1,000 param routes with a random id per request (rand_id.lua).
Foreign CPU during a cell = busy jiffies of the whole box minus the server's and wrk's, over 2 cores; a cell
with >= 10 % foreign CPU is measured once more and the cleaner run kept (the TSV records the share).
An app name ``APP@/path/to/tree`` serves APP with the plumego of another checkout (same run, same apps.py).
Every cell also records the server's CPU time per request (user + system jiffies / requests), which does
not depend on how long the server waited for a core on a shared box.
Usage: python bench/runtime/run.py [--apps bare,plumego,...] [--duration 10] [--out results.tsv] [--check]
       python bench/runtime/run.py --interleave ROUNDS [--cases hello,param-100,param-1000] [--apps ...]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
APPS = ("bare", "plumego", "falcon", "starlette", "litestar", "plumego-stack")
PORT = 8765
CONNECTIONS = 64
TICKS = os.sysconf("SC_CLK_TCK")
FOREIGN_LIMIT = 0.10


def busy_jiffies() -> int:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle


def proc_jiffies(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0
    parts = stat.rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])  # utime + stime


def foreign_share(seconds: float, own: list[int]) -> float:
    """Fraction of the box's CPU (both cores) used by processes other than ``own`` over ``seconds``."""
    cores = os.cpu_count() or 1
    busy0, own0 = busy_jiffies(), sum(proc_jiffies(p) for p in own)
    time.sleep(seconds)
    busy1, own1 = busy_jiffies(), sum(proc_jiffies(p) for p in own)
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / (seconds * TICKS * cores)


def quiet_gate(own: list[int], wait: float) -> float:
    deadline = time.monotonic() + wait
    while True:
        share = foreign_share(1.0, own)
        if share < FOREIGN_LIMIT or time.monotonic() > deadline:
            return share


@dataclass
class Cell:
    app: str
    case: str
    rps: float
    p50_ms: float
    p99_ms: float
    foreign: float
    errors: str
    cpu_us: float = 0.0  # the server process's CPU time (user + system) per request: immune to waiting for a core


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, duration: float, script: str | None, prefix: str | None) -> tuple[subprocess.Popen[str], list[str]]:
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", "--latency", "--timeout", "5s", f"-d{duration:g}s"]
    if script:
        cmd += ["-s", script]
    env = dict(os.environ)
    if prefix:
        env["TARGET_PREFIX"] = prefix
    return subprocess.Popen([*cmd, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env), cmd


def measure(server: subprocess.Popen[bytes], app: str, case: str, path: str, prefix: str | None,
            duration: float, gate_wait: float, port: int = PORT, warmup: float = 3.0) -> Cell:
    url = f"http://127.0.0.1:{port}{path}"
    script = str(HERE / "rand_id.lua") if prefix else None
    quiet_gate([server.pid], gate_wait)
    warm, _ = wrk(url, warmup, script, prefix)
    warm.communicate()
    proc, _ = wrk(url, duration, script, prefix)
    busy0 = busy_jiffies()
    server0 = proc_jiffies(server.pid)
    own0 = server0 + proc_jiffies(proc.pid)
    own_last = own0
    while proc.poll() is None:  # sample wrk's jiffies before it exits
        own_last = proc_jiffies(server.pid) + proc_jiffies(proc.pid)
        time.sleep(0.2)
    server1 = proc_jiffies(server.pid)
    out = proc.stdout.read() if proc.stdout else ""
    busy1 = busy_jiffies()
    own1 = max(own_last, proc_jiffies(server.pid))
    foreign = max(0.0, (busy1 - busy0) - (own1 - own0)) / (duration * TICKS * (os.cpu_count() or 1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    cpu_us = (server1 - server0) / TICKS / max(total, 1) * 1e6
    return Cell(app, case, rps, p50, p99, foreign, errs.group(0) if errs else "", cpu_us)


def start_server(app: str, n_routes: int, port: int = PORT) -> subprocess.Popen[bytes]:
    # "APP@/other/checkout" serves APP with another tree's plumego (before/after comparisons in one run).
    name, _, tree = app.partition("@")
    env = dict(os.environ, APP=name, N_ROUTES=str(n_routes), PYTHONPATH=tree or str(REPO))
    cmd = ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "apps:app", "--app-dir", str(HERE),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning"]
    server = subprocess.Popen(cmd, env=env, cwd=HERE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"{app} server exited with {server.returncode}")
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"{app} server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def check_answers() -> None:
    """Every app must answer the same bodies before it is measured."""
    import httpx

    for n in (100,):
        for app in APPS:
            server = start_server(app, n)
            try:
                hello = httpx.get(f"http://127.0.0.1:{PORT}/hello").json()
                item = httpx.get(f"http://127.0.0.1:{PORT}/api/v1/res{n - 1}/abc").json()
                assert hello == {"message": "Hello, World!"}, (app, hello)
                assert app == "bare" or item == {"id": "abc", "res": n - 1}, (app, item)
                print(f"ok {app}", flush=True)
            finally:
                stop_server(server)


CASES = (("hello", 100), ("param-100", 100), ("param-1000", 1000))


def case_target(case: str, n: int) -> tuple[str, str | None]:
    if case == "hello":
        return "/hello", None
    return f"/api/v1/res{n - 1}/1", f"/api/v1/res{n - 1}/"


def interleaved(apps: list[str], rounds: int, duration: float, gate_wait: float, out: Path,
                cases: tuple[tuple[str, int], ...] = CASES) -> None:
    """All servers up at once (idle ones cost nothing); rounds x cases x apps, so every app sees the
    same background noise. Reports the median of the rounds per cell."""
    servers: dict[tuple[str, int], tuple[subprocess.Popen[bytes], int]] = {}
    port = PORT
    try:
        for app in apps:
            for n in sorted({n for _, n in cases}):
                port += 1
                servers[(app, n)] = (start_server(app, n, port), port)
        results: dict[tuple[str, str], list[Cell]] = {}
        with open(out, "a", encoding="utf-8") as sink:
            for r in range(rounds):
                for case, n in cases:
                    for app in apps:
                        server, app_port = servers[(app, n)]
                        path, prefix = case_target(case, n)
                        cell = measure(server, app, case, path, prefix, duration, gate_wait, app_port, warmup=1.0)
                        results.setdefault((app, case), []).append(cell)
                        line = (f"round{r}\t{app}\t{case}\t{cell.rps:.0f}\t{cell.p50_ms:.2f}\t{cell.p99_ms:.2f}\t"
                                f"{cell.foreign * 100:.1f}\t{cell.cpu_us:.1f}\t{cell.errors}")
                        print(line, flush=True)
                        sink.write(line + "\n")
        print("median of rounds: app case rps p50 p99 max-foreign% | server CPU µs/request: median, min")
        for (app, case), cells in results.items():
            ordered = sorted(cells, key=lambda c: c.rps)
            mid = ordered[len(ordered) // 2]
            worst = max(c.foreign for c in cells) * 100
            cpu = sorted(c.cpu_us for c in cells)
            print(f"{app}\t{case}\t{mid.rps:.0f}\t{mid.p50_ms:.2f}\t{mid.p99_ms:.2f}\t{worst:.1f}\t"
                  f"{cpu[len(cpu) // 2]:.1f}\t{cpu[0]:.1f}", flush=True)
    finally:
        for server, _ in servers.values():
            stop_server(server)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--gate-wait", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=HERE / "results.tsv")
    parser.add_argument("--check", action="store_true", help="only verify that every app answers correctly")
    parser.add_argument("--interleave", type=int, default=0, metavar="ROUNDS",
                        help="all servers up at once, cells interleaved across apps for ROUNDS rounds")
    parser.add_argument("--cases", default=",".join(case for case, _ in CASES),
                        help="with --interleave: which of hello,param-100,param-1000 to run")
    args = parser.parse_args()
    if args.interleave:
        wanted = set(args.cases.split(","))
        cases = tuple(case for case in CASES if case[0] in wanted)
        interleaved(args.apps.split(","), args.interleave, args.duration, args.gate_wait, args.out, cases)
        return 0
    if args.check:
        check_answers()
        return 0
    cells: list[Cell] = []
    with open(args.out, "a", encoding="utf-8") as out:
        for app in args.apps.split(","):
            for n, cases in ((100, ("hello", "param-100")), (1000, ("param-1000",))):
                server = start_server(app, n)
                try:
                    for case in cases:
                        path, prefix = case_target(case, n)
                        cell = measure(server, app, case, path, prefix, args.duration, args.gate_wait)
                        if cell.foreign >= FOREIGN_LIMIT:  # retry once, keep the cleaner measurement
                            again = measure(server, app, case, path, prefix, args.duration, args.gate_wait)
                            cell = min(cell, again, key=lambda c: c.foreign)
                        cells.append(cell)
                        line = (f"{cell.app}\t{cell.case}\t{cell.rps:.0f}\t{cell.p50_ms:.2f}\t{cell.p99_ms:.2f}\t"
                                f"{cell.foreign * 100:.1f}\t{cell.errors}")
                        print(line, flush=True)
                        out.write(time.strftime("%Y-%m-%dT%H:%M:%S") + "\t" + line + "\n")
                finally:
                    stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
