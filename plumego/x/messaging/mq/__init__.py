"""plumego.x.messaging.mq (experimental): a durable, at-least-once task queue with leases, retries and dead letters.

::

    queue = await open_queue("sqlite:///queue.db")          # or postgresql://host/db?schema=app, redis://host/0,
                                                            # nats://host:4222?namespace=app
    await queue.enqueue("email.send", b'{"to": "a@example.com"}', dedupe_key="welcome-42")
    worker = Worker(queue, concurrency=8)
    worker.register("email.send", send_email)                # async def send_email(task: Task) -> None
    app.add_component("mq-worker", worker)                   # started and drained by the App's lifespan

Every backend implements :class:`TaskQueue` and passes one conformance suite (tests/x/messaging/mq): SQLite (the
embedded default: WAL, synchronous=FULL, several processes on one file), PostgreSQL (``FOR UPDATE SKIP
LOCKED``, LISTEN/NOTIFY wake-ups), Redis (Streams with a consumer group, one Lua script per transition) and NATS
JetStream (a work-queue stream; the consumer's AckWait is the lease, timed by the server).
Go Plumego's queue is in memory (or SQL without wake-ups); this one is durable by default and runs across workers
and machines with the same API.
Imports the standard library and plumego.store/plumego.log; never plumego.core.
"""

from ._open import open_queue
from ._queue import QueueCapabilities, TaskQueue
from ._retry import ExponentialBackoff
from ._sqlite import SQLiteTaskQueue
from ._task import (
    DEFAULT_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    DuplicateTaskError,
    LeaseLostError,
    QueueError,
    QueueStats,
    Task,
    TaskNotFoundError,
    TaskStatus,
)
from ._worker import PermanentError, RetryLater, TaskHandler, Worker

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_ATTEMPTS",
    "DuplicateTaskError",
    "ExponentialBackoff",
    "LeaseLostError",
    "PermanentError",
    "QueueCapabilities",
    "QueueError",
    "QueueStats",
    "RetryLater",
    "SQLiteTaskQueue",
    "Task",
    "TaskHandler",
    "TaskNotFoundError",
    "TaskQueue",
    "TaskStatus",
    "Worker",
    "open_queue",
]
