"""Bridges against the real servers (Redis pub/sub, NATS, Mosquitto): what one process publishes reaches the
subscribers of every bridged process, with the same pattern semantics on every transport, in publish order.
Two brokers with their own connections play two workers; one test uses a real second process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plumego.x.messaging.pubsub import InProcBroker, open_bridge

REPO = Path(__file__).resolve().parents[4]
pytestmark = pytest.mark.services


async def test_messages_reach_every_bridged_broker(bridge_url: str) -> None:
    a, b = InProcBroker(), InProcBroker()
    bridge_a, bridge_b = open_bridge(a, bridge_url), open_bridge(b, bridge_url)
    await bridge_a.start()
    await bridge_b.start()
    try:
        on_a = a.subscribe("orders/eu/created")
        glob_b = b.subscribe_pattern("orders/*/created", buffer=100)
        mqtt_b = b.subscribe_mqtt("orders/#", buffer=100)
        for i in range(20):
            await bridge_a.publish(f"orders/{'eu' if i % 2 else 'us'}/created", {"n": i})
        await bridge_b.publish("orders/eu/paid", b"\x00binary")
        got_glob = [(await glob_b.get(timeout=10)).data["n"] for _ in range(20)]
        got_mqtt = [(await mqtt_b.get(timeout=10)).data for _ in range(21)]
        assert got_glob == list(range(20))                            # in publish order
        # one publisher's messages arrive in its order; another publisher's may come between them (on NATS a
        # publish returns before the server has it, so B's message can overtake A's buffered ones)
        assert [m for m in got_mqtt if m != b"\x00binary"] == [{"n": i} for i in range(20)]
        assert got_mqtt.count(b"\x00binary") == 1
        assert [(await on_a.get(timeout=10)).data["n"] for _ in range(10)] == list(range(1, 20, 2))
        with pytest.raises(TimeoutError):
            await glob_b.get(timeout=0.2)                             # orders/eu/paid is not */created
        await bridge_a.ready()
    finally:
        await bridge_a.stop()
        await bridge_b.stop()


async def test_foreign_payloads_on_the_channel_are_dropped_not_fatal(bridge_url: str) -> None:
    broker = InProcBroker()
    bridge = open_bridge(broker, bridge_url)
    await bridge.start()
    try:
        sub = broker.subscribe_mqtt("#")
        await bridge._send(b"not json")                              # what another program might write there
        await bridge._send(b'{"id": "1", "topic": "a/+", "data": 1}')  # a wildcard is not a topic
        await bridge.publish("ok", 1)
        assert (await sub.get(timeout=10)).data == 1
        await bridge.ready()                                         # still running
        assert bridge.rejected == 2
    finally:
        await bridge.stop()


async def test_a_second_process_receives(bridge_url: str) -> None:
    child_code = (
        "import asyncio, sys\n"
        "from plumego.x.messaging.pubsub import InProcBroker, open_bridge\n"
        "async def main():\n"
        "    broker = InProcBroker()\n"
        "    bridge = open_bridge(broker, sys.argv[1])\n"
        "    await bridge.start()\n"
        "    sub = broker.subscribe_mqtt('jobs/+')\n"
        "    print('ready', flush=True)\n"
        "    for _ in range(3):\n"
        "        print((await sub.get(timeout=30)).data, flush=True)\n"
        "    await bridge.stop()\n"
        "asyncio.run(main())\n"
    )
    child = subprocess.Popen([sys.executable, "-c", child_code, bridge_url], stdout=subprocess.PIPE, text=True,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    broker = InProcBroker()
    bridge = open_bridge(broker, bridge_url)
    await bridge.start()
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)).strip() == "ready"
        for topic in ("jobs/a", "other/b", "jobs/c", "jobs/d"):
            await bridge.publish(topic, topic)
        out, _ = await asyncio.wait_for(asyncio.to_thread(child.communicate), 60)
        assert out.split() == ["jobs/a", "jobs/c", "jobs/d"]
        assert child.returncode == 0
    finally:
        if child.poll() is None:
            child.kill()
        await bridge.stop()


def test_unknown_scheme_and_bad_namespace() -> None:
    with pytest.raises(ValueError):
        open_bridge(InProcBroker(), "kafka://h:9092")
    with pytest.raises(ValueError):
        open_bridge(InProcBroker(), "redis://h:6379?namespace=a.b")
