"""The in-process broker: delivery by topic and pattern, the four backpressure policies, request/reply, replay
history, cancel and close."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.messaging.pubsub import (
    CORRELATION_ID,
    BrokerClosedError,
    InProcBroker,
    Message,
    Policy,
    SubscriptionClosed,
)


async def drain(sub: object, n: int) -> list[object]:
    return [(await sub.get(timeout=5)).data for _ in range(n)]  # type: ignore[attr-defined]


async def test_topic_glob_and_mqtt_subscribers_each_get_their_messages() -> None:
    broker = InProcBroker()
    exact = broker.subscribe("orders/eu/created")
    glob = broker.subscribe_pattern("orders/*/created")
    mqtt = broker.subscribe_mqtt("orders/#")
    await broker.publish("orders/eu/created", 1)
    await broker.publish("orders/us/created", 2)
    await broker.publish("orders/us/paid", 3, type="payment", meta={"k": "v"})
    assert await drain(exact, 1) == [1]
    assert await drain(glob, 2) == [1, 2]
    assert await drain(mqtt, 3) == [1, 2, 3]
    with pytest.raises(TimeoutError):
        await exact.get(timeout=0.05)
    stats = broker.stats()
    assert stats.published == 3 and stats.delivered == 6 and stats.subscriptions == 3


async def test_drop_oldest_is_the_default() -> None:
    broker = InProcBroker()
    sub = broker.subscribe("t", buffer=3)
    for i in range(5):
        await broker.publish("t", i)
    assert await drain(sub, 3) == [2, 3, 4]
    assert sub.stats().dropped == 2


async def test_drop_newest() -> None:
    broker = InProcBroker()
    sub = broker.subscribe("t", buffer=3, policy=Policy.DROP_NEWEST)
    for i in range(5):
        await broker.publish("t", i)
    assert await drain(sub, 3) == [0, 1, 2]
    assert sub.stats().dropped == 2


async def test_block_with_timeout_waits_for_the_reader_then_drops() -> None:
    broker = InProcBroker()
    sub = broker.subscribe("t", buffer=1, policy=Policy.BLOCK_WITH_TIMEOUT, block_timeout=30)
    await broker.publish("t", 0)
    publishing = asyncio.create_task(broker.publish("t", 1))   # blocks: the buffer is full
    await asyncio.sleep(0.05)
    assert not publishing.done()
    assert await drain(sub, 1) == [0]                            # reading makes room ...
    await asyncio.wait_for(publishing, 5)                        # ... and the publisher goes on
    assert await drain(sub, 1) == [1]
    impatient = broker.subscribe("u", buffer=1, policy=Policy.BLOCK_WITH_TIMEOUT, block_timeout=0.01)
    await broker.publish("u", "a")
    await broker.publish("u", "b")                               # nobody reads: dropped after the timeout
    assert await drain(impatient, 1) == ["a"] and impatient.stats().dropped == 1


async def test_close_subscriber_cuts_off_a_slow_consumer() -> None:
    broker = InProcBroker()
    slow = broker.subscribe("t", buffer=2, policy=Policy.CLOSE_SUBSCRIBER)
    fast = broker.subscribe("t", buffer=10)
    for i in range(3):
        await broker.publish("t", i)
    assert slow.closed
    assert await drain(slow, 2) == [0, 1]                         # what was buffered can still be read
    with pytest.raises(SubscriptionClosed):
        await slow.get()
    assert await drain(fast, 3) == [0, 1, 2]
    assert broker.stats().subscriptions == 1


async def test_async_iteration_ends_when_cancelled() -> None:
    broker = InProcBroker()
    sub = broker.subscribe_mqtt("a/+")
    got: list[object] = []

    async def consume() -> None:
        async for message in sub:
            got.append(message.data)
            if len(got) == 2:
                sub.close()

    task = asyncio.create_task(consume())
    await broker.publish("a/1", "x")
    await broker.publish("a/2", "y")
    await asyncio.wait_for(task, 5)
    assert got == ["x", "y"]
    await broker.publish("a/3", "z")                             # nobody listens any more
    assert broker.stats().subscriptions == 0


async def test_request_reply() -> None:
    broker = InProcBroker()
    service = broker.subscribe("math/double")

    async def serve() -> None:
        request = await service.get(timeout=5)
        await broker.reply(request, request.data * 2)

    server = asyncio.create_task(serve())
    answer = await broker.request("math/double", 21, timeout=5)
    await server
    assert answer.data == 42 and answer.meta[CORRELATION_ID]
    with pytest.raises(LookupError):
        await broker.request("nobody/home", 1, timeout=5)        # no subscriber: fails at once
    silent = broker.subscribe("silent")
    with pytest.raises(TimeoutError):
        await broker.request("silent", 1, timeout=0.05)
    assert silent.stats().buffered == 1
    assert not await broker.reply(Message(id="x", topic="t", data=None), "no inbox")


async def test_replay_history_for_late_subscribers() -> None:
    broker = InProcBroker(history=4)
    for i in range(6):
        await broker.publish(f"room/{i % 2}", i)
    late = broker.subscribe_mqtt("room/+", replay=10)
    assert await drain(late, 4) == [2, 3, 4, 5]                  # history keeps the last 4
    only_odd = broker.subscribe("room/1", replay=1)
    await broker.publish("room/1", 7)
    assert await drain(only_odd, 2) == [5, 7]                    # replayed first, then live, in order
    assert InProcBroker().subscribe("x", replay=3).stats().buffered == 0


async def test_close_refuses_new_work() -> None:
    broker = InProcBroker()
    sub = broker.subscribe("t")
    await broker.publish("t", 1)
    await broker.close()
    assert await drain(sub, 1) == [1]
    with pytest.raises(SubscriptionClosed):
        await sub.get()
    with pytest.raises(BrokerClosedError):
        await broker.publish("t", 2)
    with pytest.raises(BrokerClosedError):
        broker.subscribe("t")


def test_wire_form_round_trips_bytes_and_json() -> None:
    for data in (b"\x00\xffraw", {"a": [1, "é"]}, "text", None):
        m = Message(id="1", topic="t/x", data=data, type="k", time=1.5, meta={"m": "n"})
        assert Message.from_wire(m.to_wire()) == m
