"""A broker that goes away mid-run (PostgreSQL, Redis, NATS): the worker's connection is cut (through a proxy, so
the shared server keeps running for everyone else), it backs off and reconnects, and no acknowledged task is lost
or left undone."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from plumego.x.messaging.mq import QueueStats, Task, open_queue, Worker

from ...tcp_proxy import CuttableProxy


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit((parts.scheme, f"{netloc[0]}@{host}" if len(netloc) == 2 else host, parts.path, parts.query,
                       parts.fragment))


@pytest.mark.services
@pytest.mark.parametrize("queue_url", ["postgres", "redis", "nats"], indirect=True)
async def test_worker_survives_a_broker_outage(queue_url: str) -> None:
    parts = urlsplit(queue_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    await proxy.start()
    producer = await open_queue(queue_url)                      # direct: the producer is not affected
    consumer = await open_queue(through(queue_url, proxy.port))
    done: set[bytes] = set()

    async def handle(task: Task) -> None:
        done.add(task.payload)

    worker = Worker(consumer, poll_interval=0.05, lease=5)
    worker.register("jobs", handle)
    try:
        await worker.start()
        for i in range(20):
            await producer.enqueue("jobs", b"%d" % i)
        while len(done) < 5:
            await asyncio.sleep(0.02)
        proxy.cut()                                             # the broker is gone for the worker ...
        for i in range(20, 40):
            await producer.enqueue("jobs", b"%d" % i)           # ... while producers keep enqueueing
        await asyncio.sleep(1.0)
        proxy.restore()                                         # ... and back
        loop = asyncio.get_running_loop()
        end = loop.time() + 90
        while (await producer.stats()).done < 40:
            assert loop.time() < end, await producer.stats()
            await asyncio.sleep(0.1)
        assert done == {b"%d" % i for i in range(40)}
        assert await producer.stats() == QueueStats(done=40)
    finally:
        await worker.stop()
        await consumer.close()
        await producer.close()
        await proxy.close()
