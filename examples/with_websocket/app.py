"""The with_websocket service: the websocket server, its message handler and the health routes. Imports plumego's
stable roots and plumego.x.websocket (beta) only."""

from __future__ import annotations

import json

from plumego.contract import Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id
from plumego.x.websocket import Conn, Hub, MessageValidation, Server, WebSocketConfig, hs256_auth

MAX_MESSAGE = 1 << 20


async def on_message(conn: Conn, data: str | bytes, hub: Hub) -> None:
    """``{"type":"ping"}`` -> ``{"type":"pong"}`` to the sender; anything else to the sender's room."""
    if isinstance(data, str) and data.startswith("{"):
        try:
            value = json.loads(data)
        except ValueError:
            value = None
        if isinstance(value, dict) and value.get("type") == "ping":
            await conn.send_json({"type": "pong"})
            return
    await hub.broadcast_room(conn.room, data)


def build_app(secret: str, logger: StructuredLogger, *, broadcast_secret: str = "", backplane: str = "",
              host: str = "127.0.0.1", port: int = 8084) -> App:
    if len(secret.encode()) < 32:
        raise ValueError("WS_SECRET must be set and at least 32 bytes")
    app = App(AppConfig(host=host, port=port, ws_max_message_bytes=MAX_MESSAGE))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    server = Server(WebSocketConfig(auth=hs256_auth(secret), allow_unauthenticated=True, on_message=on_message,
                                    validation=MessageValidation(max_bytes=MAX_MESSAGE),
                                    broadcast_secret=broadcast_secret or None, backplane=backplane or None),
                    logger=logger)
    server.register_routes(app)
    app.add_component("websocket", server)

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    async def readyz(request: Request) -> dict[str, object]:
        metrics = server.metrics()
        return {"status": "ready", "connections": metrics.connections, "rooms": metrics.rooms,
                "backplane": metrics.backplane or "none", "backplane_connected": metrics.backplane_connected}

    app.get("/healthz", healthz)
    app.get("/readyz", readyz)
    return app
