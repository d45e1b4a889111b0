"""The JetStream bridge against the real NATS server: a durable subscriber that was down receives what was
published meanwhile, each message once."""

from __future__ import annotations

import uuid

import pytest

from plumego.x.messaging.pubsub import InProcBroker, open_bridge

pytestmark = pytest.mark.services


@pytest.fixture
def js_url(nats_url: str) -> str:
    pytest.importorskip("nats", reason="nats-py is not installed (pip install 'plumego[nats]')")
    return f"{nats_url}?namespace=t{uuid.uuid4().hex[:10]}"


async def _cleanup(url: str, namespace: str) -> None:
    import nats

    nc = await nats.connect(url.split("?", 1)[0])
    try:
        await nc.jetstream().delete_stream(f"PLUMEGO_{namespace}")
    finally:
        await nc.close()


async def test_a_durable_subscriber_catches_up(js_url: str) -> None:
    namespace = js_url.rsplit("namespace=", 1)[1]
    publisher = open_bridge(InProcBroker(), js_url + "&durable=publisher")
    await publisher.start()
    try:
        first = InProcBroker()
        billing = open_bridge(first, js_url + "&durable=billing")
        await billing.start()
        sub = first.subscribe_mqtt("orders/#", buffer=100)
        await publisher.publish("orders/1", 1)
        assert (await sub.get(timeout=10)).data == 1
        await billing.stop()                                  # billing is down ...
        for n in (2, 3, 4):
            await publisher.publish(f"orders/{n}", n)         # ... while these are published
        again = InProcBroker()
        sub2 = again.subscribe_mqtt("orders/#", buffer=100)
        billing2 = open_bridge(again, js_url + "&durable=billing")
        await billing2.start()                                # ... and back: it gets what it missed, once
        try:
            assert [(await sub2.get(timeout=10)).data for _ in range(3)] == [2, 3, 4]
            with pytest.raises(TimeoutError):
                await sub2.get(timeout=0.5)
        finally:
            await billing2.stop()
    finally:
        await publisher.stop()
        await _cleanup(js_url, namespace)


def test_bad_durable_options_are_refused() -> None:
    with pytest.raises(ValueError):
        open_bridge(InProcBroker(), "nats://127.0.0.1:4222?durable=a.b")
    with pytest.raises(ValueError):
        open_bridge(InProcBroker(), "nats://127.0.0.1:4222?durable=ok&max_age=1h")
