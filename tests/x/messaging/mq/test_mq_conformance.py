"""The task queue conformance suite: the same assertions for every backend (see conftest.BACKENDS).

A documented difference between backends is a capability flag (``queue.capabilities``), never a skipped
assertion. Times are short (a lease of ``LEASE`` seconds, margins of 0.4-1 s) so that a backend timed by its broker
(``server_clock``) runs the same assertions on the real clock.
"""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.messaging.mq import (
    DuplicateTaskError,
    LeaseLostError,
    QueueStats,
    TaskNotFoundError,
    TaskQueue,
    TaskStatus,
)

from .conftest import LEASE, FakeClock, QueueFactory


async def test_enqueue_reserve_ack(queue: TaskQueue) -> None:
    task = await queue.enqueue("email.send", b'{"to":"a@example.com"}', tenant_id="t1", meta={"trace": "x"})
    assert task.status == TaskStatus.QUEUED and task.attempts == 0
    got = await queue.reserve(["email.send"], consumer_id="w1")
    assert [t.id for t in got] == [task.id]
    leased = got[0]
    assert leased.status == TaskStatus.LEASED and leased.attempts == 1 and leased.lease_owner == "w1"
    assert leased.payload == b'{"to":"a@example.com"}' and leased.tenant_id == "t1" and leased.meta == {"trace": "x"}
    assert await queue.reserve(["email.send"], consumer_id="w2") == []     # leased: nobody else gets it
    await queue.ack(task.id, "w1")
    stored = await queue.get(task.id)
    assert stored is not None and stored.status == TaskStatus.DONE and stored.lease_owner is None
    assert await queue.stats() == QueueStats(done=1)


async def test_reserve_only_named_topics_and_limit(queue: TaskQueue) -> None:
    a = [await queue.enqueue("a", b"%d" % i) for i in range(3)]
    await queue.enqueue("b", b"b")
    got = await queue.reserve(["a"], consumer_id="w", limit=2)
    assert [t.id for t in got] == [a[0].id, a[1].id]
    got = await queue.reserve(["a", "a"], consumer_id="w", limit=10)
    assert [t.id for t in got] == [a[2].id]
    assert await queue.reserve([], consumer_id="w") == []
    assert await queue.stats() == QueueStats(queued=1, leased=3)


async def test_lease_expiry_redelivers_and_fences_the_old_owner(queue: TaskQueue, clock: FakeClock) -> None:
    task = await queue.enqueue("t", b"x")
    (first,) = await queue.reserve(["t"], consumer_id="w1", lease=LEASE)
    clock.advance(LEASE - 1.0)
    assert await queue.reserve(["t"], consumer_id="w2") == []
    clock.advance(1.5)                                       # the lease ran out: at-least-once redelivery
    (second,) = await queue.reserve(["t"], consumer_id="w2", lease=LEASE)
    assert second.id == task.id and second.attempts == 2 and second.lease_owner == "w2"
    with pytest.raises(LeaseLostError):
        await queue.ack(task.id, "w1")                       # the old owner cannot finish it any more
    with pytest.raises(LeaseLostError):
        await queue.extend_lease(task.id, "w1", LEASE)
    await queue.ack(task.id, "w2")
    with pytest.raises(LeaseLostError):
        await queue.ack(task.id, "w2")                       # acking twice is not silently accepted
    with pytest.raises(TaskNotFoundError):
        await queue.ack("no-such-task", "w2")


async def test_extend_lease_keeps_the_task(queue: TaskQueue, clock: FakeClock) -> None:
    await queue.enqueue("t", b"x")
    (task,) = await queue.reserve(["t"], consumer_id="w1", lease=LEASE)
    clock.advance(LEASE - 1.0)
    until = await queue.extend_lease(task.id, "w1", LEASE)
    assert until == pytest.approx(clock.now + LEASE, abs=0.5)
    clock.advance(LEASE - 1.0)                               # past the first lease, inside the extended one
    assert await queue.reserve(["t"], consumer_id="w2") == []
    await queue.ack(task.id, "w1")


async def test_dedupe_key(queue: TaskQueue, clock: FakeClock) -> None:
    first = await queue.enqueue("t", b"1", dedupe_key="order-42")
    with pytest.raises(DuplicateTaskError) as info:
        await queue.enqueue("t", b"2", dedupe_key="order-42")
    assert info.value.task_id == first.id and info.value.dedupe_key == "order-42"
    (task,) = await queue.reserve(["t"], consumer_id="w")
    await queue.ack(task.id, "w")
    with pytest.raises(DuplicateTaskError):                  # a done task still holds its key ...
        await queue.enqueue("t", b"3", dedupe_key="order-42")
    clock.advance(0.1)
    assert await queue.purge(finished_before=clock.now) == 1  # ... until it is purged
    again = await queue.enqueue("t", b"4", dedupe_key="order-42")
    assert again.id != first.id
    assert (await queue.enqueue("t", b"5")).dedupe_key is None   # no key: never a duplicate
    await queue.enqueue("t", b"6")


async def test_delayed_availability(queue: TaskQueue, clock: FakeClock) -> None:
    later = await queue.enqueue("t", b"later", delay=1.5)
    at = await queue.enqueue("t", b"at", available_at=clock.now + 3.5)
    assert await queue.reserve(["t"], consumer_id="w") == []
    clock.advance(2.0)
    assert [t.id for t in await queue.reserve(["t"], consumer_id="w", limit=5)] == [later.id]
    await queue.ack(later.id, "w")
    clock.advance(2.0)
    assert [t.id for t in await queue.reserve(["t"], consumer_id="w", limit=5)] == [at.id]


async def test_priority_then_fifo(queue: TaskQueue) -> None:
    low = await queue.enqueue("t", b"low", priority=10)
    first_normal = await queue.enqueue("t", b"n1", priority=20)
    critical = await queue.enqueue("t", b"crit", priority=40)
    second_normal = await queue.enqueue("t", b"n2", priority=20)
    got = [t.id for t in await queue.reserve(["t"], consumer_id="w", limit=10)]
    if queue.capabilities.priority:
        assert got == [critical.id, first_normal.id, second_normal.id, low.id]
    else:
        assert got == [low.id, first_normal.id, critical.id, second_normal.id]


async def test_release_retries_then_dead_letters(queue: TaskQueue, clock: FakeClock) -> None:
    task = await queue.enqueue("t", b"x", max_attempts=3)
    for attempt in (1, 2):
        (got,) = await queue.reserve(["t"], consumer_id="w")
        assert got.attempts == attempt
        after = await queue.release(task.id, "w", retry_at=clock.now + 1.0, error=f"boom {attempt}")
        assert after.status == TaskStatus.QUEUED and after.last_error == f"boom {attempt}"
        assert await queue.reserve(["t"], consumer_id="w") == []    # not before retry_at
        clock.advance(1.4)
    (got,) = await queue.reserve(["t"], consumer_id="w")
    after = await queue.release(task.id, "w", error="boom 3")
    assert after.status == TaskStatus.DEAD and after.attempts == 3
    assert await queue.reserve(["t"], consumer_id="w") == []
    assert (await queue.stats()).dead == 1
    assert await queue.replay_dlq() == 1
    (got,) = await queue.reserve(["t"], consumer_id="w")
    assert got.attempts == 1 and got.last_error == ""


async def test_lease_expiring_on_the_last_attempt_is_dead(queue: TaskQueue, clock: FakeClock) -> None:
    task = await queue.enqueue("t", b"poison", max_attempts=2)
    for _ in range(2):
        assert len(await queue.reserve(["t"], consumer_id="crashy", lease=LEASE)) == 1
        clock.advance(LEASE + 0.5)                           # the consumer died holding it
    assert await queue.reserve(["t"], consumer_id="w") == []
    stored = await queue.get(task.id)
    assert stored is not None and stored.status == TaskStatus.DEAD and "attempt 2 of 2" in stored.last_error


async def test_move_to_dlq_and_replay_keeping_attempts(queue: TaskQueue) -> None:
    task = await queue.enqueue("t", b"x", max_attempts=5)
    await queue.reserve(["t"], consumer_id="w")
    await queue.move_to_dlq(task.id, "w", "bad payload")
    stored = await queue.get(task.id)
    assert stored is not None and stored.status == TaskStatus.DEAD and stored.last_error == "bad payload"
    assert await queue.replay_dlq(reset_attempts=False) == 1
    (got,) = await queue.reserve(["t"], consumer_id="w")
    assert got.attempts == 2
    assert await queue.replay_dlq() == 0


async def test_expired_tasks_are_never_delivered(queue: TaskQueue, clock: FakeClock) -> None:
    doomed = await queue.enqueue("t", b"x", expires_at=clock.now + 0.5)
    counted = await queue.enqueue("t", b"y", expires_at=clock.now + 0.5)
    keep = await queue.enqueue("t", b"z", expires_at=clock.now + 100)
    clock.advance(0.7)
    got = await queue.reserve(["t"], consumer_id="w", limit=1)
    assert [t.id for t in got] == [keep.id]
    assert (await queue.get(doomed.id)).status == TaskStatus.EXPIRED   # type: ignore[union-attr]
    stats = await queue.stats()
    assert stats.expired == 2 and stats.leased == 1
    assert (await queue.get(counted.id)).status == TaskStatus.EXPIRED  # type: ignore[union-attr]
    clock.advance(0.1)
    assert await queue.purge(finished_before=clock.now) == 2


async def test_bad_arguments_are_refused_alike(queue: TaskQueue) -> None:
    for kwargs in ({"max_attempts": 0}, {"priority": 10**9}, {"available_at": float("nan")}):
        with pytest.raises(ValueError):
            await queue.enqueue("t", b"x", **kwargs)  # type: ignore[arg-type]
    for topic in ("", "a b", "a*", "x" * 300):
        with pytest.raises(ValueError):
            await queue.enqueue(topic, b"x")
    with pytest.raises(ValueError):
        await queue.reserve(["t"], consumer_id="")
    with pytest.raises(ValueError):
        await queue.reserve(["t"], consumer_id="w", lease=0)
    assert await queue.stats() == QueueStats()


async def test_concurrent_consumers_never_share_a_task(make_queue: QueueFactory) -> None:
    producer = await make_queue()
    ids = {(await producer.enqueue("t", b"%d" % i)).id for i in range(60)}
    consumers = [await make_queue() for _ in range(4)]
    seen: list[str] = []

    async def consume(q: TaskQueue, name: str) -> None:
        while batch := await q.reserve(["t"], consumer_id=name, limit=3):
            for t in batch:
                seen.append(t.id)
                await q.ack(t.id, name)

    await asyncio.gather(*(consume(q, f"c{i}") for i, q in enumerate(consumers)))
    assert sorted(seen) == sorted(ids)                       # every task once, none twice
    assert await producer.stats() == QueueStats(done=60)
