"""The queue worker: a lifecycle component that reserves tasks, runs their handlers, and acks, retries or
dead-letters them.

Owns concurrency, lease heart-beats, retry back-off and graceful drain. It has ``start``/``stop``/``ready``, so
``app.add_component("mq-worker", worker)`` runs it under the App's lifespan; it imports no part of plumego.core.
Imports the standard library, plumego.log, this package and the family's drain helper.

Delivery is at least once: a handler may see a task again after a crash, a lost lease or a failed ack, so handlers
must be idempotent (for example keyed on ``task.id`` or ``task.dedupe_key``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from plumego.log import DiscardLogger, StructuredLogger

from .._drain import drain
from ._queue import TaskQueue
from ._retry import ExponentialBackoff
from ._task import DEFAULT_LEASE, LeaseLostError, QueueError, Task

__all__ = ["PermanentError", "RetryLater", "TaskHandler", "Worker"]

TaskHandler = Callable[[Task], Awaitable[None]]


class PermanentError(Exception):
    """Raise from a handler for a task that can never succeed: it goes to the dead-letter state at once."""


class RetryLater(Exception):
    """Raise from a handler to retry after ``delay`` seconds instead of the worker's back-off (a handler that knows
    better: a ``Retry-After`` header, a per-target policy). The task still dead-letters after ``max_attempts``."""

    def __init__(self, delay: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay:g}s")
        self.delay = max(0.0, delay)


class Worker:
    """Runs registered handlers for the tasks of their topics.

    - ``concurrency``: how many tasks run at once (Go: ``Concurrency``; ``MaxInflight`` is the same bound here).
    - ``lease``: how long a reservation lasts; a running task's lease is extended every third of it (of the lease
      the backend granted, when that is fixed per queue: NATS JetStream's AckWait).
    - ``retry``: the back-off before a failed task is offered again; after ``max_attempts`` it is dead.
    - ``shutdown_timeout``: ``stop`` stops reserving, waits this long for running tasks, then cancels the rest and
      gives them back to the queue at once (no wait for the lease to run out).
    """

    def __init__(self, queue: TaskQueue, *, consumer_id: str | None = None, concurrency: int = 4,
                 lease: float = DEFAULT_LEASE, retry: ExponentialBackoff | None = None,
                 poll_interval: float = 1.0, shutdown_timeout: float = 30.0,
                 logger: StructuredLogger | None = None, clock: Callable[[], float] = time.time) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if lease <= 0 or poll_interval <= 0 or shutdown_timeout < 0:
            raise ValueError("lease and poll_interval must be > 0, shutdown_timeout >= 0")
        self.queue = queue
        self.consumer_id = consumer_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency
        self.lease = lease
        self.retry = retry or ExponentialBackoff()
        self.poll_interval = poll_interval
        self.shutdown_timeout = shutdown_timeout
        self._log = logger or DiscardLogger()
        self._clock = clock
        self._handlers: dict[str, TaskHandler] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.processed = 0
        self.failed = 0

    def register(self, topic: str, handler: TaskHandler) -> None:
        """Run ``handler`` for tasks of ``topic``. Register before ``start``."""
        if self._loop_task is not None:
            raise RuntimeError("register handlers before the worker starts")
        if topic in self._handlers:
            raise ValueError(f"a handler for topic {topic!r} is registered already")
        self._handlers[topic] = handler

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self._handlers:
            raise RuntimeError("the worker has no handlers: register at least one topic")
        if self._loop_task is not None:
            return
        self._stopping.clear()
        self._loop_task = asyncio.create_task(self._run(), name=f"mq-worker-{self.consumer_id}")

    async def ready(self) -> None:
        if self._loop_task is None or self._loop_task.done():
            raise RuntimeError("the queue worker is not running")

    async def stop(self) -> None:
        """Stop reserving, drain running tasks for up to ``shutdown_timeout``, release what is left."""
        if self._loop_task is None:
            return
        self._stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task
        self._loop_task = None
        await drain(self._running, self.shutdown_timeout)

    # -- the loop -----------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        topics = list(self._handlers)
        outage = 0
        while not self._stopping.is_set():
            free = self.concurrency - len(self._running)
            if free <= 0:
                await self._wait_any(self.poll_interval)
                continue
            try:
                tasks = await self.queue.reserve(topics, consumer_id=self.consumer_id, limit=free, lease=self.lease)
            except Exception as exc:     # the backend is down: log, back off (up to 30 s), try again
                outage += 1
                self._log.error("mq reserve failed", {"error": type(exc).__name__, "consumer": self.consumer_id,
                                                      "consecutive_failures": outage})
                backoff = min(30.0, self.poll_interval * 2 ** min(outage - 1, 10))
                await self._wait_stop(backoff * random.uniform(0.8, 1.2))
                continue
            outage = 0
            for task in tasks:
                t = asyncio.create_task(self._process(task), name=f"mq-task-{task.id}")
                self._running.add(t)
                t.add_done_callback(self._running.discard)
            if not tasks:
                waiter = asyncio.create_task(self.queue.wait(topics, self.poll_interval))
                stopper = asyncio.create_task(self._stopping.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                await asyncio.gather(waiter, stopper, return_exceptions=True)

    async def _wait_any(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED), timeout)

    async def _wait_stop(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout)

    async def _process(self, task: Task) -> None:
        handler = self._handlers[task.topic]
        beat = asyncio.create_task(self._heartbeat(task))
        fields = {"task_id": task.id, "topic": task.topic, "attempt": task.attempts}
        try:
            await handler(task)
        except asyncio.CancelledError:
            # shutdown ran out of time: give the task back now instead of after the lease
            with contextlib.suppress(QueueError, OSError):
                await asyncio.shield(self.queue.release(task.id, self.consumer_id, error="worker shut down"))
            raise
        except PermanentError as exc:
            self.failed += 1
            self._log.warn("mq task failed permanently", {**fields, "error": type(exc).__name__})
            await self._settle(self.queue.move_to_dlq(task.id, self.consumer_id, _describe(exc)), fields)
        except Exception as exc:
            self.failed += 1
            delay = exc.delay if isinstance(exc, RetryLater) else self.retry.delay(task.attempts)
            retry_at = self._clock() + delay
            self._log.warn("mq task failed", {**fields, "error": type(exc).__name__})
            await self._settle(self.queue.release(task.id, self.consumer_id, retry_at=retry_at,
                                                  error=_describe(exc)), fields)
        else:
            self.processed += 1
            await self._settle(self.queue.ack(task.id, self.consumer_id), fields)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _settle(self, op: Awaitable[object], fields: dict[str, object]) -> None:
        try:
            await op
        except LeaseLostError:
            self._log.warn("mq lease lost before the task was settled: it will be delivered again", fields)
        except Exception as exc:
            self._log.error("mq settle failed: the task will be delivered again after its lease",
                            {**fields, "error": type(exc).__name__})

    async def _heartbeat(self, task: Task) -> None:
        # a backend with a fixed lease (capabilities.lease_per_reserve False) may have granted less than asked
        granted = self.lease if task.lease_until is None else task.lease_until - self._clock()
        interval = max(0.01, min(self.lease, granted) / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.queue.extend_lease(task.id, self.consumer_id, self.lease)
            except LeaseLostError:
                self._log.warn("mq lease lost while the task ran", {"task_id": task.id, "topic": task.topic})
                return
            except Exception as exc:
                self._log.error("mq lease extension failed", {"task_id": task.id, "error": type(exc).__name__})


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."
