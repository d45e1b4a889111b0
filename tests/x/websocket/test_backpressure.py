"""Send queues under a peer that stops reading: BLOCK waits up to send_timeout then drops, DROP drops at once, CLOSE
closes the slow consumer with 1008; the write deadline gives a stuck peer up; the hub counts it all, and a real slow
client over uvicorn does not hold up the others."""

from __future__ import annotations

import asyncio
from typing import Any

from plumego.x.websocket import Conn, ConnLimits, Hub, SendPolicy, SendResult, Server, WebSocketConfig, dial
from plumego.core import App

from .served import serving


class Peer:
    """An ASGI send that blocks until released (a peer whose socket buffer is full)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gate = asyncio.Event()

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.send":
            await self.gate.wait()
        self.sent.append(message)

    async def receive(self) -> Any:
        await asyncio.Event().wait()


def stuck_conn(policy: SendPolicy, *, queue: int = 1, write_timeout: float = 5.0) -> tuple[Conn, Peer]:
    peer = Peer()
    conn = Conn(peer.send, peer.receive, room="r",
                limits=ConnLimits(send_queue=queue, send_timeout=0.05, send_policy=policy,
                                  write_timeout=write_timeout))
    conn.start_writer()
    return conn, peer


async def _fill(conn: Conn) -> None:
    assert await conn.send_text("in flight") is SendResult.ENQUEUED
    await asyncio.sleep(0.01)                             # the writer took it and is blocked in send
    assert await conn.send_text("queued") is SendResult.ENQUEUED


async def test_block_waits_then_drops_or_gets_room() -> None:
    conn, peer = stuck_conn(SendPolicy.BLOCK)
    await _fill(conn)
    assert await conn.send_text("no room in time") is SendResult.DROPPED
    assert conn.dropped == 1
    waiting = asyncio.create_task(conn.send_text("room in time"))
    await asyncio.sleep(0.01)
    peer.gate.set()
    assert await waiting is SendResult.ENQUEUED
    await conn.close(flush_timeout=1.0)
    assert [m.get("text") for m in peer.sent if m["type"] == "websocket.send"] == ["in flight", "queued",
                                                                                   "room in time"]
    assert peer.sent[-1]["type"] == "websocket.close" and peer.sent[-1]["code"] == 1000


async def test_drop_and_close_policies() -> None:
    conn, _ = stuck_conn(SendPolicy.DROP)
    await _fill(conn)
    assert conn.try_enqueue({"type": "websocket.send", "text": "x"}) is SendResult.DROPPED
    assert not conn.closed
    await conn.close()

    conn, peer = stuck_conn(SendPolicy.CLOSE, write_timeout=0.1)
    await _fill(conn)
    assert await conn.send_text("one too many") is SendResult.CLOSED
    assert conn.closed
    await asyncio.sleep(0.05)
    assert peer.sent[-1] == {"type": "websocket.close", "code": 1008, "reason": "send queue full"}
    assert await conn.send_text("after close") is SendResult.CLOSED


async def test_write_deadline_closes_a_stuck_peer() -> None:
    conn, peer = stuck_conn(SendPolicy.DROP, write_timeout=0.05)
    assert await conn.send_text("never written") is SendResult.ENQUEUED
    await asyncio.sleep(0.3)
    assert conn.closed and peer.sent[-1]["code"] == 1008 and peer.sent[-1]["reason"] == "write timeout"


async def test_hub_counts_slow_members_without_waiting_for_the_fast_ones() -> None:
    hub = Hub()
    slow, _ = stuck_conn(SendPolicy.BLOCK)
    fast_peer = Peer()
    fast_peer.gate.set()
    fast = Conn(fast_peer.send, fast_peer.receive, room="r")
    fast.start_writer()
    hub.try_join(slow)
    hub.try_join(fast)
    await hub.broadcast_room("r", "1")
    await asyncio.sleep(0.01)
    await hub.broadcast_room("r", "2")
    result = await hub.broadcast_room("r", "3")          # slow: full, waits send_timeout, drops
    assert (result.attempted, result.enqueued, result.dropped) == (2, 1, 1)
    assert hub.metrics().dropped == 1
    await hub.stop(0.05)
    assert [m.get("text") for m in fast_peer.sent if m["type"] == "websocket.send"] == ["1", "2", "3"]
    assert fast_peer.sent[-1]["code"] == 1001                          # graceful stop: going away


async def test_a_real_slow_client_does_not_hold_up_the_room() -> None:
    app = App()
    server = Server(WebSocketConfig(allow_unauthenticated=True, send_queue=8, send_policy=SendPolicy.DROP))
    server.register_routes(app)
    app.add_component("websocket", server)
    async with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)   # a raw client that stops reading
        writer.write(b"GET /ws?room=r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        fast = await dial(base + "/ws", room="r")
        blob = "x" * 60_000
        for _ in range(600):                                              # ~36 MB towards a peer that never reads
            await server.hub.broadcast_room("r", blob)
            assert await fast.receive() == blob
        assert server.hub.metrics().dropped > 0
        await fast.close()
        writer.transport.abort()
