"""Static file serving: plumego's x/frontend Mount against Starlette's StaticFiles over the same directory, both
under the same uvicorn (1 worker, uvloop, httptools) on CPU0 with wrk on CPU1, rounds interleaved, same run.

Cells: a 1 KiB CSS file, a 100 KiB JS bundle and ``/`` (the index). ``wrk -t1 -c32 -d<duration>s`` after a 2 s
warm-up; reported: requests/s (median of the rounds) and p99 latency, with the share of the box's CPU used by
other processes during the cell.
Run: PYTHONPATH=. python bench/static_bench.py [--duration 5] [--rounds 3]
Not a test: nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "runtime"))
from run import busy_jiffies, proc_jiffies  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
APPS = {"plumego": "bench.edge_apps:plumego_static", "starlette": "bench.edge_apps:starlette_static"}
CELLS = {"css-1k": "/assets/site.css", "js-100k": "/assets/app.js", "index": "/"}


def make_site(root: Path) -> None:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>bench</title>" + "<p>x</p>" * 100)
    (root / "assets" / "site.css").write_bytes(b"body{margin:0}" * 73)
    (root / "assets" / "app.js").write_bytes(b"console.log(1);" * 6827)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, duration: int) -> tuple[float, str]:
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    return rps, p99


def cell(app: str, path: str, site: Path, duration: int) -> tuple[float, str, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_STATIC_DIR": str(site)}
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "--factory", APPS[app],
                             "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
                             "--no-access-log"], cwd=REPO, env=env)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}{path}"
        wrk(url, 2)                                                   # warm-up
        busy0, own0 = busy_jiffies(), proc_jiffies(proc.pid)
        t0 = time.monotonic()
        rps, p99 = wrk(url, duration)
        elapsed = time.monotonic() - t0
        busy1, own1 = busy_jiffies(), proc_jiffies(proc.pid)
        ticks = os.sysconf("SC_CLK_TCK")
        # wrk's own CPU is not subtracted (it is not our child's child): foreign includes it, read as an upper bound
        foreign = max(0.0, (busy1 - busy0) - (own1 - own0)) / (elapsed * ticks * (os.cpu_count() or 1))
        return rps, p99, foreign
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        make_site(site)
        results: dict[tuple[str, str], list[float]] = {}
        for round_no in range(args.rounds):
            for name, path in CELLS.items():
                order = list(APPS) if round_no % 2 == 0 else list(reversed(APPS))
                for app in order:
                    rps, p99, foreign = cell(app, path, site, args.duration)
                    results.setdefault((name, app), []).append(rps)
                    print(f"round {round_no + 1} {name:8s} {app:9s} {rps:9,.0f} req/s  p99 {p99:>8s}  "
                          f"other CPU (incl. wrk) {foreign:4.0%}", flush=True)
        print(f"\nmedian req/s over {args.rounds} rounds:")
        for name in CELLS:
            p, s = (statistics.median(results[(name, a)]) for a in APPS)
            print(f"  {name:8s} plumego {p:9,.0f}  starlette {s:9,.0f}  ratio {p / s:.2f}")


if __name__ == "__main__":
    main()
