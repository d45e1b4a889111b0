"""CPU per proxied request of the gateway's own proxy path, measured in one process: the gateway ASGI app is
called directly (no ASGI server in front) by ``--concurrency`` tasks against a bare backend served by uvicorn in
another process, and ``time.process_time`` is divided by the requests made. This isolates what the gateway
itself spends per request (picking a backend, headers, the upstream client round trip, relaying the body).

Run: PYTHONPATH=. python bench/gateway_cpu.py [--requests 4000] [--concurrency 32] [--profile out.prof]
Not a test; needs uvicorn.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import socket
import subprocess
import sys
import time
from collections.abc import MutableMapping
from typing import Any

from plumego.x.gateway import Gateway, GatewayConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SCOPE: dict[str, Any] = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
    "path": "/bench", "raw_path": b"/bench", "query_string": b"", "root_path": "",
    "headers": [(b"host", b"gateway.local"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
    "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
}


async def _one(gateway: Gateway) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await gateway(dict(SCOPE), receive, send)
    return status


async def _run(gateway: Gateway, requests: int, concurrency: int, profile: str | None) -> float:
    async def worker(n: int) -> None:
        for _ in range(n):
            if await _one(gateway) != 200:
                raise RuntimeError("non-200 through the gateway")

    await asyncio.gather(*(worker(20) for _ in range(concurrency)))          # warm the pool
    prof = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    if prof:
        prof.disable()
        prof.dump_stats(profile)  # type: ignore[arg-type]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = requests // concurrency * concurrency
    print(f"{done} requests, concurrency {concurrency}: {cpu / done * 1e6:.0f} us CPU per request "
          f"({done / wall:.0f} req/s wall)")
    await gateway.stop()
    return cpu / done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile")
    parser.add_argument("--upstream", default="aiohttp", choices=["aiohttp", "httpx"])
    args = parser.parse_args()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.gateway_apps:backend", "--port", str(port),
                             "--log-level", "warning", "--no-access-log", "--http", "httptools", "--loop", "uvloop",
                             "--timeout-keep-alive", "300"],  # idle connections survive a run under valgrind
                            env=dict(os.environ), stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        import uvloop

        gateway = Gateway(GatewayConfig(targets=[f"http://127.0.0.1:{port}"], upstream=args.upstream))
        print(f"upstream {args.upstream}")
        uvloop.run(_run(gateway, args.requests, args.concurrency, args.profile))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
