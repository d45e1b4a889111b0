"""What plumego's guarded uvicorn protocols cost: the reference app under stock uvicorn protocols vs plumego's.

Not a test. Each variant serves the reference app as users run it (default configuration, its logger writing
to a file, GET /api/hello through the full middleware stack) on CPU0 with uvicorn + uvloop; wrk (pooled
keep-alive connections, c=64) runs on CPU1. Variants are interleaved round by round so they share the box's
noise; the medians and the guarded/stock ratio per implementation are printed with ``uptime``.
Usage: python bench/runtime/head_guard_bench.py [--rounds 5] [--duration 5] [--impl httptools,h11]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SERVER = r"""
import sys, uvicorn
from pathlib import Path
from plumego.log import LoggerConfig, new_logger
from reference_app import config
from reference_app.app import build_app

variant, impl, port, data, log_path = sys.argv[1:6]
cfg = config.load(["--port", port, "--data-dir", data], environ={"APP_RATE_LIMIT_BURST": "100000000",
                                                                 "APP_RATE_LIMIT_PER_SECOND": "100000000"})
logger = new_logger(LoggerConfig(format="text", output=open(log_path, "a", encoding="utf-8")))
app = build_app(cfg, logger)
options = app.config.uvicorn_options()
if variant == "stock":
    options["http"] = impl          # uvicorn's own protocol class
    options.pop("proxy_headers")    # and its default (proxy headers on)
else:
    from plumego.core._uvicorn_http import HeaderLimits, guarded_protocol
    options["http"] = guarded_protocol(impl, HeaderLimits())
uvicorn.run(app, loop="uvloop", access_log=False, log_level="warning", **options)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def run_cell(variant: str, impl: str, duration: int, workdir: Path) -> float:
    port = free_port()
    data = tempfile.mkdtemp(dir=workdir)
    log_path = workdir / f"{variant}-{impl}.log"
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-c", SERVER, variant, impl, str(port), data, str(log_path)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
    )
    try:
        wait_up(port)
        url = f"http://127.0.0.1:{port}/api/hello"
        subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c64", "-d2s", url], check=True, capture_output=True)
        out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{duration}s", url],
                             check=True, capture_output=True, text=True).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert match and "Non-2xx" not in out, out
        return float(match.group(1))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--impl", default="httptools,h11")
    args = parser.parse_args()
    impls = [i.strip() for i in args.impl.split(",") if i.strip()]
    results: dict[tuple[str, str], list[float]] = {}
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(1, args.rounds + 1):
            for impl in impls:
                for variant in ("stock", "guarded"):
                    rps = run_cell(variant, impl, args.duration, Path(tmp))
                    results.setdefault((variant, impl), []).append(rps)
                    print(f"round {round_no} {impl:9} {variant:7} {rps:10.0f} rps", flush=True)
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for impl in impls:
        stock = statistics.median(results[("stock", impl)])
        guarded = statistics.median(results[("guarded", impl)])
        print(f"{impl:9} median stock {stock:8.0f}  guarded {guarded:8.0f}  guarded/stock {guarded / stock:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
