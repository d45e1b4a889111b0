"""A backplane whose server goes away (cut through a proxy, so the shared server keeps running for everyone else):
the hub keeps delivering locally, says the broadcast was not published, reconnects, subscribes again, and what is
broadcast after the server is back crosses hubs again. Redis pub/sub and NATS."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from plumego.x.websocket import Hub, open_backplane

from ..tcp_proxy import CuttableProxy
from .test_backplane import Member

pytestmark = pytest.mark.services


@pytest.fixture(params=["redis", "nats"])
def server_url(request: pytest.FixtureRequest) -> str:
    pytest.importorskip(request.param)
    base: str = request.getfixturevalue(f"{request.param}_url")
    return f"{base}{'&' if '?' in base else '?'}namespace=t{uuid.uuid4().hex[:12]}"


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"127.0.0.1:{port}", parts.path, parts.query, parts.fragment))


async def test_hub_survives_a_backplane_outage(server_url: str) -> None:
    parts = urlsplit(server_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    await proxy.start()
    direct = Hub(backplane=open_backplane(server_url))
    cut = Hub(backplane=open_backplane(through(server_url, proxy.port)))
    await direct.start()
    await cut.start()
    try:
        remote, local = Member(direct, "r"), Member(cut, "r")
        await cut.broadcast_room("r", "before")
        assert await remote.wait_for(1) == ["before"]
        proxy.cut()
        await asyncio.sleep(0.3)
        during = await cut.broadcast_room("r", "during")               # never raises; local members still get it
        assert during.enqueued == 1 and not during.published
        assert cut.metrics().backplane_errors >= 1
        with pytest.raises(RuntimeError, match="backplane is not connected"):
            await cut.ready()
        proxy.restore()
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while loop.time() < end:                                       # until the subscription is back
            await direct.broadcast_room("r", "after")
            await asyncio.sleep(0.2)
            if "after" in local.got:
                break
        assert "after" in local.got
        await cut.broadcast_room("r", "published again")
        async with asyncio.timeout(10):
            while "published again" not in remote.got:
                await asyncio.sleep(0.02)
        assert cut.metrics().backplane_reconnects >= 1
        await cut.ready()
    finally:
        await cut.stop(0.1)
        await direct.stop(0.1)
        await proxy.close()
