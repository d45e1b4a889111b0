"""In-process cost (µs/request) of a handler returning a Response vs a plain value that plumego converts.

Same App, same route shape, measured in the same run: ``JSONResponse({...})`` vs ``{...}`` (dict -> JSON), and
``PlainTextResponse("...")`` vs ``"..."`` (str -> text). Reports the median of ``--runs`` runs of ``--n``
requests each, and the ratio plain/Response. Not a test.
Usage: PYTHONPATH=. python bench/returns_bench.py [--n 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from plumego.contract import JSONResponse, Message, PlainTextResponse, Request
from plumego.core import App


def build() -> App:
    app = App()

    async def json_response(request: Request) -> JSONResponse:
        return JSONResponse({"message": "Hello, World!"})

    async def json_plain(request: Request) -> dict[str, str]:
        return {"message": "Hello, World!"}

    async def text_response(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    async def text_plain(request: Request) -> str:
        return "Hello, World!"

    async def untyped(request):  # type: ignore[no-untyped-def]
        return {"message": "Hello, World!"}

    app.get("/json/response", json_response)
    app.get("/json/plain", json_plain)
    app.get("/text/response", text_response)
    app.get("/text/plain", text_plain)
    app.get("/json/untyped", untyped)
    app.prepare()
    return app


async def once(app: App, path: str, n: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                             "query_string": b"", "headers": [(b"host", b"x")], "client": ("127.0.0.1", 1),
                             "server": ("127.0.0.1", 80)}
    start = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - start) / n * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    app = build()
    paths = ["/json/response", "/json/plain", "/json/untyped", "/text/response", "/text/plain"]
    samples: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(args.runs):  # interleaved, so machine noise hits every variant alike
        for path in paths:
            samples[path].append(await once(app, path, args.n))
    median = {path: statistics.median(values) for path, values in samples.items()}
    for path in paths:
        print(f"{path:16s} {median[path]:6.2f} µs/request (median of {args.runs} x {args.n})")
    print(f"dict vs JSONResponse:          {median['/json/plain'] / median['/json/response']:.3f}x")
    print(f"untyped dict vs JSONResponse:  {median['/json/untyped'] / median['/json/response']:.3f}x")
    print(f"str vs PlainTextResponse:      {median['/text/plain'] / median['/text/response']:.3f}x")


if __name__ == "__main__":
    asyncio.run(main())
