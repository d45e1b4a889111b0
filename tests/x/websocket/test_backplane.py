"""The backplane conformance suite, one module for every backplane (in-process bus, Redis pub/sub, NATS): two hubs
play two workers; a broadcast reaches the room's members on both, once each, in order; foreign traffic on the
channel is counted and ignored; a hub's own message is not delivered twice."""

from __future__ import annotations

import asyncio
from typing import Any

from plumego.x.websocket import BackplaneMessage, Conn, ConnLimits, Hub

from .conftest import BackplaneTarget


class Member:
    """A connection whose ASGI send records what it was asked to send."""

    def __init__(self, hub: Hub, room: str) -> None:
        self.got: list[str | bytes] = []
        self.arrived = asyncio.Event()

        async def send(message: Any) -> None:
            if message["type"] == "websocket.send":
                self.got.append(message["text"] if message.get("text") is not None else message["bytes"])
                self.arrived.set()

        async def receive() -> Any:
            await asyncio.Event().wait()

        self.conn = Conn(send, receive, room=room, limits=ConnLimits(send_queue=1024))
        hub.try_join(self.conn)
        self.conn.start_writer()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[str | bytes]:
        async with asyncio.timeout(timeout):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.got


async def test_broadcasts_cross_hubs(backplane_target: BackplaneTarget) -> None:
    a, b = Hub(backplane=backplane_target.open()), Hub(backplane=backplane_target.open())
    await a.start()
    await b.start()
    try:
        on_a, on_b, elsewhere = Member(a, "r"), Member(b, "r"), Member(b, "q")
        for i in range(20):
            result = await a.broadcast_room("r", f"m{i}")
            assert (result.attempted, result.enqueued, result.published) == (1, 1, True)
        await b.broadcast_room("r", b"\x00binary\xff")
        expected: list[str | bytes] = [f"m{i}" for i in range(20)]
        got_b = await on_b.wait_for(21)
        assert [m for m in got_b if isinstance(m, str)] == expected   # one publisher's messages in its order
        assert got_b.count(b"\x00binary\xff") == 1
        await on_a.wait_for(21)
        assert sorted(map(repr, on_a.got)) == sorted(map(repr, [*expected, b"\x00binary\xff"]))
        everyone = await a.broadcast_all("all rooms")
        assert everyone.published and everyone.attempted == 1
        assert (await elsewhere.wait_for(1)) == ["all rooms"]
        await on_b.wait_for(22)
        await asyncio.sleep(0.2)                                      # the echo of a's own messages is ignored
        assert len(on_a.got) == 22 and len(on_b.got) == 22 and elsewhere.got == ["all rooms"]
        assert b.metrics().remote_broadcasts == 21 and a.metrics().remote_broadcasts == 1
        assert a.metrics().backplane_connected and a.metrics().backplane == backplane_target.kind
        await a.ready()
    finally:
        await a.stop(0.1)
        await b.stop(0.1)


async def test_foreign_traffic_is_counted_and_ignored(backplane_target: BackplaneTarget) -> None:
    hub = Hub(backplane=backplane_target.open())
    await hub.start()
    try:
        member = Member(hub, "r")
        for raw in (b"hello", b"PWS1\n{not json}\nx", b"PWS1\n[1]\nx", b"PWS1\nno-newline",
                    b'PWS1\n{"o":"x","r":5}\nx', b'PWS1\n{"o":"x","r":"r","b":false}\n\xff'):
            await backplane_target.inject(raw)
        await backplane_target.inject(BackplaneMessage("elsewhere", "r", "valid").encode())
        await backplane_target.inject(BackplaneMessage("elsewhere", "bad room", "invalid room").encode())
        assert await member.wait_for(1) == ["valid"]
        assert hub.backplane is not None and hub.backplane.rejected == 6
        await hub.ready()
    finally:
        await hub.stop(0.1)
