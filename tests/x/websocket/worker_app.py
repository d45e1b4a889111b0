"""The app the two-worker test runs under ``uvicorn --workers 2 --factory``: room fan-out over the backplane named
by ``WS_TEST_BACKPLANE``, ``whoami`` answers the worker's pid, and the admin broadcast route."""

from __future__ import annotations

import os

from plumego.core import App
from plumego.x.websocket import Conn, Hub, Server, WebSocketConfig

ADMIN_SECRET = "two-workers-admin-secret"


async def on_message(conn: Conn, data: str | bytes, hub: Hub) -> None:
    if data == "whoami":
        await conn.send_text(str(os.getpid()))
    else:
        await hub.broadcast_room(conn.room, data)


def make_app() -> App:
    app = App()
    server = Server(WebSocketConfig(allow_unauthenticated=True, on_message=on_message,
                                    broadcast_secret=ADMIN_SECRET, backplane=os.environ["WS_TEST_BACKPLANE"]))
    server.register_routes(app)
    app.add_component("websocket", server)
    return app
