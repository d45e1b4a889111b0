"""Redis-only behaviour: XREAD wakes an idle consumer when another connection enqueues, the prefix parameter,
and a queue's keys stay inside one hash tag (one Redis Cluster slot)."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.messaging.mq._redis import RedisTaskQueue, split_redis_url


def test_split_redis_url() -> None:
    assert split_redis_url("redis://h:6379/2?prefix=app&ssl_cert_reqs=none") == (
        "redis://h:6379/2?ssl_cert_reqs=none", "app")
    assert split_redis_url("redis://h")[1] == "mq"
    with pytest.raises(ValueError):
        split_redis_url("redis://h?prefix=a}b")


@pytest.mark.services
async def test_xread_wakes_an_idle_waiter(redis_namespace: tuple[str, str]) -> None:
    base, prefix = redis_namespace
    url = f"{base}?prefix={prefix}"
    consumer = await RedisTaskQueue.open(url, poll_interval=3600)  # only a stream entry can end the wait in time
    producer = await RedisTaskQueue.open(url, poll_interval=3600)
    try:
        await producer.enqueue("t", b"first")                         # the stream exists before the wait
        waiting = asyncio.create_task(consumer.wait(["t"], 3600))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await producer.enqueue("t", b"second")
        await asyncio.wait_for(waiting, 30)
        assert len(await consumer.reserve(["t"], consumer_id="c", limit=5)) == 2
    finally:
        await consumer.close()
        await producer.close()


@pytest.mark.services
async def test_every_key_shares_the_hash_tag(redis_namespace: tuple[str, str]) -> None:
    import redis.asyncio as aioredis

    base, prefix = redis_namespace
    queue = await RedisTaskQueue.open(f"{base}?prefix={prefix}")
    try:
        await queue.enqueue("a", b"x", dedupe_key="k", expires_at=9e9)
        await queue.enqueue("b", b"y", delay=60)
        (t,) = await queue.reserve(["a"], consumer_id="c")
        await queue.ack(t.id, "c")
        client = aioredis.Redis.from_url(base)
        try:
            keys = [k.decode() async for k in client.scan_iter(match=f"*{prefix}*")]
        finally:
            await client.aclose()
        assert keys and all(k.startswith("{" + prefix + "}:") for k in keys)
    finally:
        await queue.close()
