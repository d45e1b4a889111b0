"""The order outbox on plumego.x.messaging (experimental, so only here), behind the app's own protocol.

Owns ``Outbox`` (hand an order id over for processing; be told the processing work; start and stop) and its
implementation on the durable task queue (any backend URL), a queue worker with back-off, and an in-process
broker that carries ``orders.created`` to subscribers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from plumego.x.messaging.mq import DuplicateTaskError, ExponentialBackoff, Task, TaskQueue, Worker, open_queue
from plumego.x.messaging.pubsub import InProcBroker

TOPIC = "orders.created"


class Outbox(Protocol):
    async def submit(self, order_id: str) -> None: ...
    async def publish(self, topic: str, payload: Any) -> None: ...
    def subscribe_count(self, topic: str) -> int: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


Process = Callable[[str, int], Awaitable[None]]      # (order id, attempt) -> None; raise to retry


class QueueOutbox:
    def __init__(self, queue_url: str, process: Process) -> None:
        self._url = queue_url
        self._process = process
        self._queue: TaskQueue | None = None
        self._worker: Worker | None = None
        self._broker = InProcBroker()
        self._counts: dict[str, int] = {}

    async def start(self) -> None:
        self._queue = await open_queue(self._url)
        self._worker = Worker(self._queue, concurrency=4, poll_interval=0.2,
                              retry=ExponentialBackoff(base=0.2, max=5.0))

        async def handle(task: Task) -> None:
            await self._process(task.payload.decode(), task.attempts)

        self._worker.register(TOPIC, handle)
        await self._worker.start()

    async def stop(self) -> None:
        if self._worker is not None:
            await self._worker.stop()
        if self._queue is not None:
            await self._queue.close()
        await self._broker.close()

    async def submit(self, order_id: str) -> None:
        assert self._queue is not None, "the outbox is not started"
        try:
            await self._queue.enqueue(TOPIC, order_id.encode(), dedupe_key=f"order:{order_id}", max_attempts=8)
        except DuplicateTaskError:
            pass                               # handed over already: at most one task per order

    async def publish(self, topic: str, payload: Any) -> None:
        self._counts[topic] = self._counts.get(topic, 0) + 1
        await self._broker.publish(topic, payload)

    def subscribe_count(self, topic: str) -> int:
        return self._counts.get(topic, 0)
