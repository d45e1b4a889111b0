"""In-process dispatch cost (µs/request) of a bare ASGI app vs the plumego App, no sockets.

Mirrors runtime-anchors.md's inproc_bench: hello JSON, and the last of 100 param routes with
distinct ids. Not a test. Usage: PYTHONPATH=. python bench/inproc_bench.py
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from plumego.contract import ASGIApp, JSONResponse, Message, Request, Response
from plumego.core import App

HELLO = b'{"message":"Hello, World!"}'


async def bare(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"27")]})
    await send({"type": "http.response.body", "body": HELLO})


def build() -> App:
    app = App()

    async def hello(request: Request) -> Response:
        return JSONResponse({"message": "Hello, World!"})

    app.get("/hello", hello)
    for i in range(99):
        async def item(request: Request, i: int = i) -> Response:
            return JSONResponse({"id": request.param("item_id"), "res": i})

        app.get(f"/api/v1/res{i}/:item_id", item)
    app.prepare()
    return app


async def measure(app: ASGIApp, paths: list[str]) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for path in paths:
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                     "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                     "query_string": b"", "headers": [(b"host", b"x")], "client": ("127.0.0.1", 1),
                     "server": ("127.0.0.1", 80)}
            await app(scope, receive, send)
        best = min(best, (time.perf_counter() - start) / len(paths) * 1e6)
    return best


async def main() -> None:
    app = build()
    hello = ["/hello"] * 5000
    param = [f"/api/v1/res98/{i}" for i in range(5000)]
    print(f"bare   hello {await measure(bare, hello):6.2f} µs")
    print(f"plumego hello {await measure(app, hello):6.2f} µs")
    print(f"plumego param {await measure(app, param):6.2f} µs")


if __name__ == "__main__":
    asyncio.run(main())
