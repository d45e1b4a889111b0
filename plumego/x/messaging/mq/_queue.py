"""The task queue contract every backend implements, and the capabilities a backend declares.

Owns the Protocol only; no backend code. Imports only the standard library and this package's task model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ._task import DEFAULT_LEASE, DEFAULT_MAX_ATTEMPTS, QueueStats, Task

__all__ = ["QueueCapabilities", "TaskQueue"]


@dataclass(frozen=True, slots=True)
class QueueCapabilities:
    """What a backend can do beyond the common contract. The conformance suite reads these flags instead of
    skipping assertions: a backend without ``priority`` must still deliver every task, in FIFO order."""

    priority: bool = True          # reserve returns higher priorities first
    push_wakeups: bool = False     # ``wait`` is woken by the server (LISTEN/NOTIFY, stream reads), not by polling
    shared: bool = True            # several processes and machines may use one queue
    server_clock: bool = False     # leases, retry delays and delays are timed by the broker (real time); the
                                   # queue's ``clock`` only stamps records (NATS JetStream: AckWait, NAK delay)
    lease_per_reserve: bool = True  # False: the lease is fixed when the queue is opened (JetStream's AckWait,
                                    # ``?lease=``); reserve's and extend_lease's ``lease`` are checked, not used


@runtime_checkable
class TaskQueue(Protocol):
    """A durable, at-least-once task queue with leases (Go's ``mq.TaskQueue``).

    A reserved task is leased to ``consumer_id`` until ``lease_until``; ``ack`` finishes it. A lease that runs out
    puts the task back (redelivery) unless it has used ``max_attempts``, in which case it goes to the dead-letter
    state. Tasks past ``expires_at`` are never delivered (status ``expired``). Every method is safe to call from
    several workers, processes and machines at once, as far as ``capabilities.shared`` says.
    """

    capabilities: QueueCapabilities

    async def enqueue(self, topic: str, payload: bytes, *, dedupe_key: str | None = None,
                      available_at: float | None = None, delay: float = 0.0, expires_at: float | None = None,
                      priority: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS, tenant_id: str = "",
                      meta: Mapping[str, str] | None = None) -> Task:
        """Store a task durably; when this returns the task survives a crash of the caller.

        Raises :class:`DuplicateTaskError` when ``dedupe_key`` is held by an earlier task of the queue."""
        ...

    async def reserve(self, topics: Sequence[str], *, consumer_id: str, limit: int = 1,
                      lease: float = DEFAULT_LEASE) -> list[Task]:
        """Lease up to ``limit`` available tasks of ``topics`` to ``consumer_id``; returns at once (maybe [])."""
        ...

    async def ack(self, task_id: str, consumer_id: str) -> None:
        """Mark a leased task done. Raises :class:`LeaseLostError` when the caller no longer holds the lease."""
        ...

    async def release(self, task_id: str, consumer_id: str, *, retry_at: float | None = None,
                      error: str = "") -> Task:
        """Give a leased task back for another attempt at ``retry_at`` (default now), or dead-letter it when it
        has used its attempts. Returns the task as stored afterwards."""
        ...

    async def extend_lease(self, task_id: str, consumer_id: str, lease: float = DEFAULT_LEASE) -> float:
        """Push the lease to now + ``lease``; returns the new ``lease_until``."""
        ...

    async def move_to_dlq(self, task_id: str, consumer_id: str, reason: str = "") -> None:
        """Dead-letter a leased task at once (a poison message)."""
        ...

    async def replay_dlq(self, *, limit: int = 100, reset_attempts: bool = True) -> int:
        """Put up to ``limit`` dead tasks back in the queue, oldest first; returns how many."""
        ...

    async def get(self, task_id: str) -> Task | None:
        """The task as stored now, or None."""
        ...

    async def stats(self) -> QueueStats:
        """Counts by status."""
        ...

    async def wait(self, topics: Sequence[str], timeout: float) -> None:
        """Return when a task of ``topics`` may have become available, or after ``timeout`` seconds."""
        ...

    async def close(self) -> None:
        """Release connections. Idempotent."""
        ...
