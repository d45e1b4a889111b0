"""The queue worker against every backend: ack on success, retry with back-off, dead letters, graceful drain,
and a shutdown that gives unfinished tasks back at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from plumego.x.messaging.mq import (
    ExponentialBackoff,
    PermanentError,
    QueueStats,
    RetryLater,
    Task,
    TaskQueue,
    TaskStatus,
    Worker,
)

from .conftest import FakeClock

NO_WAIT = ExponentialBackoff(base=0, jitter=0)


async def until(pred: Callable[[], Awaitable[bool]], deadline: float = 30.0) -> None:
    """Poll ``pred`` until it holds; fail after ``deadline`` seconds (a hang guard, not a speed check)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not await pred():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.02)


async def test_worker_acks_retries_and_dead_letters(queue: TaskQueue, clock: FakeClock) -> None:
    calls: dict[str, int] = {}

    async def ok(task: Task) -> None:
        calls[task.id] = calls.get(task.id, 0) + 1

    async def flaky(task: Task) -> None:
        calls[task.id] = calls.get(task.id, 0) + 1
        if task.attempts < 3:
            raise RuntimeError("transient")

    async def later(task: Task) -> None:
        calls[task.id] = calls.get(task.id, 0) + 1
        if task.attempts == 1:
            raise RetryLater(0, "the receiver said Retry-After: 0")

    async def poison(task: Task) -> None:
        calls[task.id] = calls.get(task.id, 0) + 1
        raise PermanentError("cannot parse")

    oks = [await queue.enqueue("ok", b"%d" % i) for i in range(10)]
    fl = await queue.enqueue("flaky", b"f", max_attempts=5)
    po = await queue.enqueue("poison", b"p")
    la = await queue.enqueue("later", b"l")
    worker = Worker(queue, consumer_id="w", concurrency=3, retry=NO_WAIT, poll_interval=0.05, clock=clock)
    worker.register("ok", ok)
    worker.register("flaky", flaky)
    worker.register("poison", poison)
    worker.register("later", later)
    await worker.start()
    await worker.ready()
    try:
        async def settled() -> bool:
            s = await queue.stats()
            return s.done == 12 and s.dead == 1
        await until(settled)
    finally:
        await worker.stop()
    assert all(calls[t.id] == 1 for t in oks)
    assert calls[fl.id] == 3 and calls[po.id] == 1 and calls[la.id] == 2
    dead = await queue.get(po.id)
    assert dead is not None and dead.status == TaskStatus.DEAD and "cannot parse" in dead.last_error
    assert worker.processed == 12 and worker.failed == 4


async def test_stop_drains_running_tasks(queue: TaskQueue) -> None:
    started = asyncio.Event()
    finish = asyncio.Event()

    async def slow(task: Task) -> None:
        started.set()
        await finish.wait()

    task = await queue.enqueue("slow", b"x")
    worker = Worker(queue, consumer_id="w", poll_interval=0.05, shutdown_timeout=30)
    worker.register("slow", slow)
    await worker.start()
    await asyncio.wait_for(started.wait(), 30)
    stopping = asyncio.create_task(worker.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()            # stop waits for the running task ...
    finish.set()
    await asyncio.wait_for(stopping, 30)
    stored = await queue.get(task.id)
    assert stored is not None and stored.status == TaskStatus.DONE   # ... which finished and was acked


async def test_stop_after_timeout_gives_the_task_back_at_once(queue: TaskQueue) -> None:
    started = asyncio.Event()

    async def stuck(task: Task) -> None:
        started.set()
        await asyncio.Event().wait()

    task = await queue.enqueue("stuck", b"x")
    worker = Worker(queue, consumer_id="w", lease=300, poll_interval=0.05, shutdown_timeout=0.1)
    worker.register("stuck", stuck)
    await worker.start()
    await asyncio.wait_for(started.wait(), 30)
    await asyncio.wait_for(worker.stop(), 30)
    stored = await queue.get(task.id)
    assert stored is not None and stored.status == TaskStatus.QUEUED and stored.last_error == "worker shut down"
    (again,) = await queue.reserve(["stuck"], consumer_id="other")    # no wait for the 300 s lease
    assert again.id == task.id and again.attempts == 2


async def test_worker_needs_handlers_and_registers_before_start(queue: TaskQueue) -> None:
    worker = Worker(queue)
    try:
        await worker.start()
    except RuntimeError as exc:
        assert "no handlers" in str(exc)
    else:
        raise AssertionError("start without handlers must fail")
    assert await queue.stats() == QueueStats()


async def test_retry_later_overrides_the_worker_backoff(queue: TaskQueue, clock: FakeClock) -> None:
    seen: list[int] = []

    async def handler(task: Task) -> None:
        seen.append(task.attempts)
        if task.attempts == 1:
            raise RetryLater(0)           # the worker's own back-off would wait an hour

    task = await queue.enqueue("t", b"x")
    worker = Worker(queue, consumer_id="w", retry=ExponentialBackoff(base=3600, jitter=0), poll_interval=0.02,
                    clock=clock)
    worker.register("t", handler)
    await worker.start()
    try:
        async def done() -> bool:
            stored = await queue.get(task.id)
            return stored is not None and stored.status == TaskStatus.DONE
        await until(done)
    finally:
        await worker.stop()
    assert seen == [1, 2]
