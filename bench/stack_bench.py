"""What the reference app's transport stack adds per request, in process (no server, no sockets).

The six layers of the reference app (request_id, security_headers, cors, recovery, access_log, body_limit),
registered first as the reference app does (so the App runs the request_id/security_headers header layers itself),
each alone and all together, around a plumego ``App`` answering ``GET /hello`` with ``JSONResponse``;
the access log writes text (or JSON) lines to a real file in a temporary directory, as users run it.
``app(scope, receive, send)`` is called directly in one event loop with a fresh scope per request, like
bench/middleware_bench.py. Rounds interleave the variants; reports the minimum and the median µs/request
over the rounds and the difference to the bare App.
Run: PYTHONPATH=. python bench/stack_bench.py [--requests 5000] [--rounds 9] [--uvloop]
Times are CPU time of this process (time.process_time): on a shared box, time spent descheduled does not count.
Not a test: nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plumego.contract import JSONResponse, Message, Middleware, Request, Response
from plumego.core import App
from plumego.log import Level, LoggerConfig, StructuredLogger, new_logger
from plumego.middleware import access_log, body_limit, cors, recovery, request_id, security_headers

_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


class _NullStream(io.TextIOBase):
    """Accepts writes and drops them: separates rendering from the write system call."""

    def write(self, text: str) -> int:
        return len(text)


async def _receive() -> Message:
    return _REQUEST


async def _send(message: Message) -> None:
    return None


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/hello",
        "raw_path": b"/hello",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost:8000"), (b"user-agent", b"curl/8.5.0"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 51234),
        "server": ("127.0.0.1", 8000),
    }


def _app(*layers: Middleware) -> App:
    app = App()

    async def hello(request: Request) -> Response:
        return JSONResponse({"message": "Hello, World!"})

    app.get("/hello", hello)
    app.use(*layers)
    app.prepare()
    return app


def _six(logger: StructuredLogger) -> tuple[Middleware, ...]:
    return (request_id(), security_headers(), cors(), recovery(logger), access_log(logger), body_limit(1 << 20))


async def _run(app: App, requests: int) -> float:
    scopes = [_scope() for _ in range(requests)]
    began = time.process_time()
    for scope in scopes:
        await app(scope, _receive, _send)
    return (time.process_time() - began) / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        text_out = open(Path(tmp) / "access.log", "w", encoding="utf-8")  # noqa: SIM115
        json_out = open(Path(tmp) / "access.json", "w", encoding="utf-8")  # noqa: SIM115
        text = new_logger(LoggerConfig(format="text", output=text_out))
        as_json = new_logger(LoggerConfig(format="json", output=json_out))
        discard = new_logger(LoggerConfig(format="discard"))
        null_text = new_logger(LoggerConfig(format="text", output=_NullStream()))
        quiet = new_logger(LoggerConfig(format="text", output=text_out, level=Level.WARNING))
        variants: dict[str, Callable[[], App]] = {
            "bare App": lambda: _app(),
            "+ request_id": lambda: _app(request_id()),
            "+ security_headers": lambda: _app(security_headers()),
            "+ request_id + security_headers": lambda: _app(request_id(), security_headers()),
            "+ cors (no Origin)": lambda: _app(cors()),
            "+ recovery": lambda: _app(recovery(text)),
            "+ access_log (text, file)": lambda: _app(access_log(text)),
            "+ access_log (json, file)": lambda: _app(access_log(as_json)),
            "+ access_log (text, no write)": lambda: _app(access_log(null_text)),
            "+ access_log (below INFO)": lambda: _app(access_log(quiet)),
            "+ body_limit": lambda: _app(body_limit(1 << 20)),
            "six layers, text access log": lambda: _app(*_six(text)),
            "six layers, json access log": lambda: _app(*_six(as_json)),
            "six layers, logger off": lambda: _app(*_six(discard)),
        }
        apps = {name: make() for name, make in variants.items()}
        for app in apps.values():  # warm-up
            await _run(app, 500)
        samples: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(rounds):
            for name, app in apps.items():
                samples[name].append(await _run(app, requests))
        text_out.close()
        json_out.close()
    base_min = min(samples["bare App"])
    base_med = statistics.median(samples["bare App"])
    print(f"load average {os.getloadavg()}; {rounds} rounds x {requests} requests")
    print(f"{'variant':30s} {'min µs':>8s} {'added':>8s} {'median µs':>10s} {'added':>8s}")
    for name, values in samples.items():
        best, med = min(values), statistics.median(values)
        print(f"{name:30s} {best:8.2f} {best - base_min:+8.2f} {med:10.2f} {med - base_med:+8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(main(args.requests, args.rounds))
    else:
        asyncio.run(main(args.requests, args.rounds))
