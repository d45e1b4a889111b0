"""Apps for bench/static_bench.py and bench/ws_broadcast_bench.py (run under uvicorn by those harnesses).

Static: plumego's x/frontend Mount and Starlette's StaticFiles over the same directory (``BENCH_STATIC_DIR``).
WebSocket: a plumego App whose room fan-out is x/websocket's default handler, and a bare ``websockets`` server that
does the same fan-out with ``websockets.broadcast``. Not a test.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from plumego.core import App
from plumego.x.frontend import Mount
from plumego.x.websocket import Server, WebSocketConfig

STATIC = os.environ.get("BENCH_STATIC_DIR", "")


def plumego_static() -> App:
    app = App()
    Mount(STATIC, cache_control="public, max-age=3600", fallback=False).register(app)
    return app


def starlette_static() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Mount as StarletteMount
    from starlette.staticfiles import StaticFiles

    return Starlette(routes=[StarletteMount("/", StaticFiles(directory=STATIC, html=True))])


def plumego_ws() -> App:
    app = App()
    # the bench's 1,000 clients never send; the queue is the default 256, BLOCK policy
    server = Server(WebSocketConfig(allow_unauthenticated=True, max_connections=0))
    server.register_routes(app)
    app.add_component("websocket", server)
    return app


async def bare_websockets(port: int) -> None:
    """The same fan-out with the websockets library alone: every message to every connection of the room."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    members: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        members.add(ws)
        try:
            async for message in ws:
                broadcast(members, message)
        finally:
            members.discard(ws)

    async with serve(handler, "127.0.0.1", port, max_size=16 << 20, compression=None):
        await asyncio.Future()


if __name__ == "__main__":
    import uvloop

    uvloop.run(bare_websockets(int(sys.argv[1])))
