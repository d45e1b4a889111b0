"""The backplanes of the websocket suite: each test runs once per backplane (the in-process bus and the real Redis
and NATS servers), in a namespace of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from plumego.x.websocket import Backplane, MemoryBus, open_backplane

BACKPLANES = {"memory": (None, None), "redis": ("redis_url", "redis"), "nats": ("nats_url", "nats")}


@dataclass
class BackplaneTarget:
    kind: str
    url: str
    bus: MemoryBus

    def open(self) -> Backplane:
        return open_backplane(self.url, bus=self.bus)

    @property
    def channel(self) -> str:
        return "plumego.ws." + self.url.rsplit("namespace=", 1)[1]

    async def inject(self, raw: bytes) -> None:
        """Put foreign bytes on the backplane's channel, as another program sharing the server might."""
        if self.kind == "memory":
            await self.bus.publish(self.url.rsplit("namespace=", 1)[1], raw)
        elif self.kind == "redis":
            import redis.asyncio as aioredis
            client = aioredis.Redis.from_url(self.url.split("?")[0])
            await client.publish(self.channel, raw)
            await client.aclose()
        else:
            import nats
            nc = await nats.connect(self.url.split("?")[0])
            await nc.publish(self.channel, raw)
            await nc.drain()


@pytest.fixture(params=[pytest.param(name, marks=() if name == "memory" else pytest.mark.services)
                        for name in sorted(BACKPLANES)])
def backplane_target(request: pytest.FixtureRequest) -> BackplaneTarget:
    fixture, client = BACKPLANES[request.param]
    namespace = f"t{uuid.uuid4().hex[:12]}"
    if fixture is None:
        return BackplaneTarget("memory", f"memory://?namespace={namespace}", MemoryBus())
    assert client is not None
    pytest.importorskip(client, reason=f"the {request.param} client is not installed")
    base: str = request.getfixturevalue(fixture)     # skips (fails under CI=true) when the server is down
    sep = "&" if "?" in base else "?"
    return BackplaneTarget(request.param, f"{base}{sep}namespace={namespace}", MemoryBus())
