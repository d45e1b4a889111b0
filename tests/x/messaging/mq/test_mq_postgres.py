"""PostgreSQL-only behaviour: LISTEN/NOTIFY wakes an idle consumer when another connection enqueues, and the URL
parameters that choose schema and table."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.messaging.mq._postgres import PostgresTaskQueue, split_queue_url


def test_split_queue_url_keeps_driver_parameters() -> None:
    conninfo, schema, table = split_queue_url("postgresql://u@h:5432/db?sslmode=disable&schema=app&table=jobs")
    assert (conninfo, schema, table) == ("postgresql://u@h:5432/db?sslmode=disable", "app", "jobs")
    assert split_queue_url("postgresql://h/db")[1:] == ("public", "mq_tasks")
    with pytest.raises(ValueError):
        split_queue_url("postgresql://h/db?table=x;drop")


@pytest.mark.services
async def test_notify_wakes_an_idle_waiter(pg_schema: tuple[str, str]) -> None:
    base, schema = pg_schema
    url = f"{base}?schema={schema}"
    # safety_poll of an hour: only a NOTIFY can end the wait before the test's own deadline
    consumer = await PostgresTaskQueue.open(url, safety_poll=3600)
    producer = await PostgresTaskQueue.open(url, safety_poll=3600)
    try:
        waiting = asyncio.create_task(consumer.wait(["t"], 3600))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await producer.enqueue("t", b"x")
        await asyncio.wait_for(waiting, 30)
        assert len(await consumer.reserve(["t"], consumer_id="c")) == 1
    finally:
        await consumer.close()
        await producer.close()
