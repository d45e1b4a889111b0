"""NATS-only behaviour of the JetStream task queue: URL parameters, a publish wakes an idle waiter, handles that
disagree on the lease are refused, a message the queue did not publish is dropped, a replay that died between
its publish and its record update is finished by the consumer, and the duplicate window drops a retried publish."""

from __future__ import annotations

import asyncio
import json

import pytest

from plumego.x.messaging.mq import QueueError, TaskStatus

nats_mod = pytest.importorskip("nats", reason="nats-py is not installed (pip install 'plumego[nats]')")

from plumego.x.messaging.mq._nats import NATSTaskQueue, split_nats_url  # noqa: E402


def test_split_nats_url() -> None:
    assert split_nats_url("nats://h:4222?namespace=app&lease=12.5&poll_interval=0.5") == (
        "nats://h:4222", "app", 12.5, 0.5)
    assert split_nats_url("nats://h")[1:] == ("mq", 30.0, 1.0)
    for bad in ("nats://h?namespace=a.b", "nats://h?lease=0", "nats://h?lease=x", "nats://h?durable=x"):
        with pytest.raises(ValueError):
            split_nats_url(bad)


@pytest.mark.services
async def test_a_publish_wakes_an_idle_waiter(nats_namespace: tuple[str, str]) -> None:
    base, ns = nats_namespace
    consumer = await NATSTaskQueue.open(f"{base}?namespace={ns}&poll_interval=3600")
    producer = await NATSTaskQueue.open(f"{base}?namespace={ns}")
    try:
        waiting = asyncio.create_task(consumer.wait(["orders.created"], 3600))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await producer.enqueue("orders.created", b"1")
        await asyncio.wait_for(waiting, 30)
        assert len(await consumer.reserve(["orders.created"], consumer_id="c")) == 1
        with pytest.raises(ValueError):
            await producer.enqueue("a..b", b"x")                 # not a valid subject
    finally:
        await consumer.close()
        await producer.close()


@pytest.mark.services
async def test_handles_must_agree_on_the_lease(nats_namespace: tuple[str, str]) -> None:
    base, ns = nats_namespace
    first = await NATSTaskQueue.open(f"{base}?namespace={ns}&lease=5")
    other = await NATSTaskQueue.open(f"{base}?namespace={ns}&lease=9")
    try:
        await first.enqueue("t", b"x")
        (task,) = await first.reserve(["t"], consumer_id="c", lease=99)
        assert task.lease_until == pytest.approx(task.available_at + 5, abs=2)   # the queue's lease, not 99
        with pytest.raises(QueueError, match="same \\?lease="):
            await other.reserve(["t"], consumer_id="c")
    finally:
        await first.close()
        await other.close()


@pytest.mark.services
async def test_foreign_messages_and_an_unfinished_replay(nats_namespace: tuple[str, str]) -> None:
    base, ns = nats_namespace
    queue = await NATSTaskQueue.open(f"{base}?namespace={ns}")
    try:
        js = queue._nc.jetstream()
        await js.publish(queue._subject("t"), b"not a task", stream=queue.stream)      # dropped, not delivered
        task = await queue.enqueue("t", b"payload", max_attempts=3)
        (got,) = await queue.reserve(["t"], consumer_id="c")
        assert got.id == task.id
        await queue.move_to_dlq(task.id, "c", "poison")
        # a replayer that published the new copy and died before updating the record
        await queue._publish(queue._subject("t"), task.id, 1, b"payload", {"Plumego-Reset": "1"})
        (again,) = await queue.reserve(["t"], consumer_id="c")
        assert again.id == task.id and again.attempts == 1 and again.payload == b"payload"
        # the same copy published twice (a retry after a lost reply) is stored once
        await queue._publish(queue._subject("t"), task.id, 1, b"payload")
        await queue.ack(task.id, "c")
        assert await queue.reserve(["t"], consumer_id="c") == []
        stored = await queue.get(task.id)
        assert stored is not None and stored.status == TaskStatus.DONE
        info = await js.stream_info(queue.stream)
        assert info.state.messages == 0                                            # the work queue is empty
        raw = await queue._kv.get("t." + task.id)
        assert json.loads(raw.value)["gen"] == 1
        assert await queue.get("../etc") is None
    finally:
        await queue.close()
