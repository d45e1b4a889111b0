"""CPU cost per request of plumego's guarded uvicorn protocols vs uvicorn's own, without sockets.

Not a test. One keep-alive connection per variant: a stub transport, the real protocol class, a minimal ASGI
app answering 200; each request is fed with ``data_received`` and run to its response. CPU time
(``time.process_time``) of ``--requests`` requests, best of ``--repeat``, variants interleaved so they share
the box's noise; the socket-level picture is head_guard_bench.py. Prints microseconds per request and the
guarded/stock ratio for each implementation, with ``uptime``.
Usage: python bench/runtime/head_guard_inproc.py [--requests 20000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from plumego.core._uvicorn_http import HeaderLimits, guarded_protocol

REQUEST = b"GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench/1\r\nAccept: */*\r\n\r\n"


class StubTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.responses = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.responses += bytes(data).count(b"HTTP/1.1 200")

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def measure(http: Any, requests: int) -> float:
    config = uvicorn.Config(hello, http=http, lifespan="off", log_level="critical", proxy_headers=False)
    config.load()
    state = ServerState()
    protocol = config.http_protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    transport = StubTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    began = time.process_time()
    for _ in range(requests):
        protocol.data_received(REQUEST)  # type: ignore[attr-defined]
        while state.tasks:
            await asyncio.sleep(0)
    elapsed = time.process_time() - began
    assert transport.responses == requests and not transport.closed
    protocol.connection_lost(None)  # type: ignore[attr-defined]
    return elapsed / requests * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    variants = {}
    for impl in ("httptools", "h11"):
        variants[(impl, "stock")] = impl
        variants[(impl, "guarded")] = guarded_protocol(impl, HeaderLimits())
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.repeat):
        for key, http in variants.items():
            micros = asyncio.run(measure(http, args.requests))
            best[key] = min(best.get(key, micros), micros)
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for impl in ("httptools", "h11"):
        stock, guarded = best[(impl, "stock")], best[(impl, "guarded")]
        print(f"{impl:9} stock {stock:6.2f} us/request  guarded {guarded:6.2f} us/request  "
              f"guarded/stock {guarded / stock:.3f}  (+{guarded - stock:.2f} us)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
