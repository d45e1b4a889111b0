"""A bridge whose server goes away (the connection is cut through a proxy, so the shared server keeps running for
everyone else) reconnects and subscribes again: what is published after the server is back arrives."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from plumego.x.messaging.pubsub import InProcBroker, open_bridge

from ...tcp_proxy import CuttableProxy

pytestmark = pytest.mark.services


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"127.0.0.1:{port}", parts.path, parts.query, parts.fragment))


async def test_bridge_reconnects_after_an_outage(bridge_url: str) -> None:
    parts = urlsplit(bridge_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    await proxy.start()
    publisher = open_bridge(InProcBroker(), bridge_url)                 # direct
    broker = InProcBroker()
    subscriber = open_bridge(broker, through(bridge_url, proxy.port))  # through the proxy
    await publisher.start()
    await subscriber.start()
    try:
        sub = broker.subscribe("t/x", buffer=100)
        await publisher.publish("t/x", "before")
        assert (await sub.get(timeout=10)).data == "before"
        proxy.cut()
        await asyncio.sleep(1.0)
        proxy.restore()
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        got = None
        while got is None:                                      # publish until the resubscribed bridge hears one
            assert loop.time() < end, "the bridge never came back"
            await publisher.publish("t/x", "after")
            try:
                got = (await sub.get(timeout=0.5)).data
            except TimeoutError:
                pass
        assert got == "after"
        await subscriber.ready()
        # nats-py reconnects and resubscribes by itself; for Redis and MQTT the bridge had to
        assert subscriber.reconnects >= (0 if bridge_url.startswith("nats") else 1)
    finally:
        await subscriber.stop()
        await publisher.stop()
        await proxy.close()
