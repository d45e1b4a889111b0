"""The ASGI apps bench/gateway_bench.py serves: a bare backend and the plumego gateway in front of it.

``backend`` answers every request with a fixed small JSON body (no framework, so the backend is as cheap as it
can be and the gateway's cost shows; ``$BENCH_DELAY_MS`` makes it wait that long per request, as a backend
waiting on a database would); ``plumego_backend`` is a plumego App answering the same from a handler.
``gateway`` proxies everything to ``$BENCH_BACKEND`` on the ``$BENCH_UPSTREAM`` client (aiohttp unless "httpx").
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from plumego.x.gateway import Gateway, GatewayConfig

_BODY = b'{"message":"hello from the backend","n":12345}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


_DELAY = float(os.environ.get("BENCH_DELAY_MS", "0")) / 1000


async def backend(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if _DELAY:                                   # a backend waiting on its own I/O (a database, say)
        await asyncio.sleep(_DELAY)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def _plumego_backend() -> Any:
    """A plumego App with one JSON route: what a real service behind the gateway looks like."""
    from plumego.core import App

    app = App()

    async def hello(request: Any) -> dict[str, Any]:
        return {"message": "hello from the backend", "n": 12345}

    app.get("/bench", hello)
    return app


plumego_backend = _plumego_backend()
gateway = Gateway(GatewayConfig(targets=[os.environ.get("BENCH_BACKEND", "http://127.0.0.1:9")],
                                upstream="httpx" if os.environ.get("BENCH_UPSTREAM") == "httpx" else "aiohttp"))
