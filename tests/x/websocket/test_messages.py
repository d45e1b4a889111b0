"""Messages over a real uvicorn: validation close codes (1009 over the limit, 1007 bad UTF-8, 1008 control
characters, 1003 binary refused), a failing handler closes with 1011 and logs, a custom handler (ping -> pong),
the admin broadcast route with its own secret, and a malformed upgrade request answered by the server."""

from __future__ import annotations

import asyncio
import json

from typing import Any

import httpx
import pytest

from plumego.core import App, AppConfig
from plumego.log import Fields
from plumego.x.websocket import (
    Conn,
    ConnClosed,
    ConnLimits,
    Hub,
    MessageValidation,
    SendPolicy,
    SendResult,
    Server,
    WebSocketConfig,
    dial,
    sanitize_for_logging,
)

from .served import serving

ADMIN = "admin-secret-0123456789"


class Captured:
    """A StructuredLogger that keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def with_fields(self, fields: Fields) -> Captured:
        return self

    def enabled(self, level: object) -> bool:
        return True

    def _add(self, level: str, msg: str, fields: Fields | None) -> None:
        self.lines.append((level, msg, dict(fields or {})))

    def debug(self, msg: str, fields: Fields | None = None) -> None:
        self._add("debug", msg, fields)

    def info(self, msg: str, fields: Fields | None = None) -> None:
        self._add("info", msg, fields)

    def warn(self, msg: str, fields: Fields | None = None) -> None:
        self._add("warn", msg, fields)

    def error(self, msg: str, fields: Fields | None = None) -> None:
        self._add("error", msg, fields)

    def fatal(self, msg: str, fields: Fields | None = None) -> Any:
        raise SystemExit(msg)


async def ping_pong(conn: Conn, data: str | bytes, hub: Hub) -> None:
    if data == "explode":
        raise RuntimeError("handler bug")
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    if isinstance(value, dict) and value.get("type") == "ping":
        await conn.send_json({"type": "pong"})
    else:
        await hub.broadcast_room(conn.room, data)


def build(logger: Captured, **options: Any) -> tuple[App, Server]:
    app = App()
    config = WebSocketConfig(allow_unauthenticated=True, on_message=ping_pong, broadcast_secret=ADMIN,
                             validation=MessageValidation(max_bytes=1024), **options)
    server = Server(config, logger=logger)  # type: ignore[arg-type]
    server.register_routes(app)
    app.add_component("websocket", server)
    return app, server


async def closed_with(ws: Any) -> int:
    with pytest.raises(ConnClosed) as info:
        while True:
            await ws.receive()
    return info.value.code


async def test_validation_close_codes_and_handler_failures() -> None:
    logger = Captured()
    app, _ = build(logger)
    async with serving(app) as base:
        url = base + "/ws"
        async with await dial(url) as ws:
            await ws.send_json({"type": "ping"})
            assert await ws.receive_json() == {"type": "pong"}
            await ws.send_text("line one\nline\ttwo")                   # newlines and tabs are fine
            assert await ws.receive() == "line one\nline\ttwo"
            await ws.send_bytes("utf-8 bytes ✓".encode())
            assert await ws.receive() == "utf-8 bytes ✓".encode()
        cases: list[tuple[str | bytes, int]] = [("x" * 1025, 1009), (b"\xff\xfe", 1007), ("bell\x07", 1008),
                                                ("explode", 1011)]
        for payload, code in cases:
            async with await dial(url) as ws:
                if isinstance(payload, bytes):
                    await ws.send_bytes(payload)
                else:
                    await ws.send_text(payload)
                assert await closed_with(ws) == code
    assert any(m == "websocket message handler failed" and f["message"] == "explode" for _, m, f in logger.lines)
    assert sum(m == "websocket closed" for _, m, _ in logger.lines) >= 3


async def test_binary_can_be_refused() -> None:
    app, _ = build(Captured(), send_queue=4)
    app2 = App()
    server = Server(WebSocketConfig(allow_unauthenticated=True, validation=MessageValidation(allow_binary=False)))
    server.register_routes(app2)
    async with serving(app2) as base:
        async with await dial(base + "/ws") as ws:
            await ws.send_bytes(b"raw")
            assert await closed_with(ws) == 1003


async def test_admin_broadcast_route() -> None:
    app, server = build(Captured())
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        a = await dial(base + "/ws", room="lobby")
        b = await dial(base + "/ws", room="other")
        try:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN}):
                r = await http.post("/_admin/broadcast?room=lobby", content=b"x", headers=headers)
                assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
            auth = {"Authorization": f"Bearer {ADMIN}"}
            r = await http.post("/_admin/broadcast?room=no%20spaces", content=b"x", headers=auth)
            assert (r.status_code, r.json()["error"]["code"]) == (400, "WS_INVALID_ROOM")
            r = await http.post("/_admin/broadcast", content=b"y" * ((1 << 20) + 1), headers=auth)
            assert r.status_code == 413
            r = await http.post("/_admin/broadcast", content=b"", headers=auth)
            assert r.status_code == 400
            r = await http.post("/_admin/broadcast?room=lobby", content="to the lobby".encode(), headers=auth)
            assert r.status_code == 204
            assert await a.receive() == "to the lobby"
            r = await http.post("/_admin/broadcast", content=b"\x00\xffbin", headers=auth)
            assert r.status_code == 204
            assert await a.receive() == b"\x00\xffbin" and await b.receive() == b"\x00\xffbin"
            # a member whose peer stopped reading and whose queue is full, under the DROP policy: 503
            stuck = Conn(_never_returns, _never_returns, room="stuck",
                         limits=ConnLimits(send_queue=1, send_policy=SendPolicy.DROP, write_timeout=0.1))
            server.hub.try_join(stuck)
            stuck.start_writer()
            assert await stuck.send_text("taken by the writer") is SendResult.ENQUEUED
            await asyncio.sleep(0.05)
            assert await stuck.send_text("fills the queue") is SendResult.ENQUEUED
            r = await http.post("/_admin/broadcast?room=stuck", content=b"nobody", headers=auth)
            assert (r.status_code, r.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
            assert r.json()["error"]["details"] == {"attempted": 1, "dropped": 1}
            server.hub.leave(stuck)
            await stuck.close()
        finally:
            await a.close()
            await b.close()


async def test_malformed_upgrade_requests_get_a_status_not_a_traceback() -> None:
    app, _ = build(Captured())
    async with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        for head in (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n",                                     # no key
                     b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"):       # bad key
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            raw = await asyncio.wait_for(reader.read(65536), 10)
            writer.close()
            status = int(raw.split(b" ", 2)[1])
            assert 400 <= status < 500, raw[:200]
            assert b"Traceback" not in raw


async def _never_returns(*_: Any) -> Any:
    await asyncio.Event().wait()


def test_sanitize_for_logging() -> None:
    assert sanitize_for_logging("a\x1b[31mb\n") == "a\\x1b[31mb\\n"
    assert sanitize_for_logging(b"\xff\xfe") == "<2 bytes>"
    assert sanitize_for_logging("x" * 300, 10) == "x" * 10 + "..."




async def test_fragmented_messages_count_whole_and_the_heartbeat_drops_a_silent_peer() -> None:
    app = App(AppConfig(ws_ping_interval=0.2, ws_ping_timeout=0.3, ws_max_message_bytes=4096))
    server = Server(WebSocketConfig(allow_unauthenticated=True, validation=MessageValidation(max_bytes=1024)))
    server.register_routes(app)
    async with serving(app) as base:
        async with await dial(base + "/ws") as ws:           # a client that answers pings stays connected
            await asyncio.sleep(0.8)
            await ws.ws.send(["a" * 600, "b" * 300])          # one message in two frames, 900 bytes in all
            assert await ws.receive() == "a" * 600 + "b" * 300
            await ws.ws.send(["a" * 600, "b" * 600])          # 1,200 bytes over two frames: too big as a whole
            assert await closed_with(ws) == 1009
        port = int(base.rsplit(":", 1)[1])                    # a peer that never answers a ping
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        seen = b""
        async with asyncio.timeout(10):
            while chunk := await reader.read(1024):
                seen += chunk
        writer.close()
        assert seen[:1] == b"\x89"                            # a ping frame came first
        assert b"\x88" in seen and (1011).to_bytes(2, "big") in seen   # then the keepalive close, 1011
        assert server.hub.connections() == []
