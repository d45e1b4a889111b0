"""Per-layer overhead of plumego.middleware, measured in-process (no server, no sockets).

Calls ``app(scope, receive, send)`` directly in one event loop, like research/runtime-bench's
inproc_bench. Reports µs per request for a bare app, for N no-op pure-ASGI layers, and for each
plumego middleware on its common path, as the difference to the bare app.
Run: PYTHONPATH=. python bench/middleware_bench.py [requests] [--uvloop]
Not a test: nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send
from plumego.log import LoggerConfig, new_logger
from plumego.metrics import CollectorObserver, MetricsCollector
from plumego.middleware import (
    Chain,
    access_log,
    body_limit,
    compression,
    concurrency_limit,
    cors,
    http_metrics,
    recovery,
    request_id,
    timeout,
    tracing,
)

_START: Message = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
_BODY: Message = {"type": "http.response.body", "body": b"hello"}
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send(_START)
    await send(_BODY)


def noop_layer(app: ASGIApp) -> ASGIApp:
    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return layer


async def _receive() -> Message:
    return _REQUEST


async def _send(message: Message) -> None:
    return None


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/hello",
        "headers": [(b"host", b"localhost"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 1234),
    }


async def _measure(app: ASGIApp, requests: int) -> float:
    """Best of 15 runs, µs per request (the minimum filters out other processes on a shared machine).
    A fresh scope per request, as a server would pass."""
    best = float("inf")
    for _ in range(15):
        scopes = [_scope() for _ in range(requests)]
        began = time.perf_counter()
        for scope in scopes:
            await app(scope, _receive, _send)
        best = min(best, (time.perf_counter() - began) / requests * 1e6)
    return best


async def main(requests: int) -> None:
    discard = new_logger(LoggerConfig(format="discard"))
    base = await _measure(bare, requests)
    print(f"bare app                         {base:7.3f} us/request")

    for layers in (1, 5, 10):
        app: ASGIApp = bare
        for _ in range(layers):
            app = noop_layer(app)
        cost = await _measure(app, requests)
        print(f"{layers:2d} no-op pure-ASGI layers         {cost:7.3f} us  (+{(cost - base) / layers:.3f} us/layer)")

    cases: list[tuple[str, Callable[[], Middleware]]] = [
        ("request_id (generates id)", lambda: request_id()),
        ("recovery", lambda: recovery(discard)),
        ("access_log (discard logger)", lambda: access_log(discard)),
        ("http_metrics (collector)", lambda: http_metrics(CollectorObserver(MetricsCollector()))),
        ("tracing (new trace)", lambda: tracing()),
        ("body_limit (1 MiB)", lambda: body_limit(1 << 20)),
        ("timeout (30 s)", lambda: timeout(30)),
        ("cors (no Origin header)", lambda: cors()),
        ("compression (no Accept-Encoding)", lambda: compression()),
        ("concurrency_limit (free slot)", lambda: concurrency_limit(100)),
    ]
    total = 0.0
    for name, make in cases:
        cost = await _measure(make()(bare), requests)
        total += cost - base
        print(f"{name:33s}{cost:7.3f} us  (+{cost - base:.3f} us)")
    stack = Chain(*(make() for _, make in cases)).build(bare)
    cost = await _measure(stack, requests)
    print(f"all {len(cases)} together                   {cost:7.3f} us  (+{cost - base:.3f} us;", end=" ")
    print(f"sum of singles {total:.3f})")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 20000
    if "--uvloop" in sys.argv:
        import uvloop

        print("event loop: uvloop")
        uvloop.run(main(count))
    else:
        print("event loop: asyncio")
        asyncio.run(main(count))
