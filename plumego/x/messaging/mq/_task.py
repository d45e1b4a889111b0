"""The task record, its statuses, queue statistics and the queue's errors.

Owns the data every backend returns; no I/O. Imports only the standard library; never a backend client.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_ATTEMPTS",
    "DuplicateTaskError",
    "LeaseLostError",
    "QueueError",
    "QueueStats",
    "Task",
    "TaskNotFoundError",
    "TaskStatus",
    "new_task",
    "validate_enqueue",
]

DEFAULT_MAX_ATTEMPTS = 5      # Go: MaxAttempts 5
DEFAULT_LEASE = 30.0          # Go: lease 30 s
MAX_TOPIC_LENGTH = 255
MAX_PRIORITY = 1_000_000


class TaskStatus(enum.StrEnum):
    """Go's statuses, spelled as on the wire."""

    QUEUED = "queued"
    LEASED = "leased"
    DONE = "done"
    DEAD = "dead"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of work. Times are Unix seconds (float); ``attempts`` counts reservations so far."""

    id: str
    topic: str
    payload: bytes
    status: TaskStatus = TaskStatus.QUEUED
    tenant_id: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    dedupe_key: str | None = None
    available_at: float = 0.0
    expires_at: float | None = None
    attempts: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    lease_owner: str | None = None
    lease_until: float | None = None
    created_at: float = 0.0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Counts by status (Go's ``Stats{Queued, Leased, Dead, Expired}``, plus ``done``)."""

    queued: int = 0
    leased: int = 0
    dead: int = 0
    expired: int = 0
    done: int = 0


class QueueError(Exception):
    """Base class of the queue's errors."""


class DuplicateTaskError(QueueError):
    """An enqueue named a dedupe key that an earlier task of the queue holds (Go: DUPLICATE_MESSAGE)."""

    def __init__(self, dedupe_key: str, task_id: str) -> None:
        super().__init__(f"a task with dedupe key {dedupe_key!r} exists already ({task_id})")
        self.dedupe_key = dedupe_key
        self.task_id = task_id


class TaskNotFoundError(QueueError):
    """No task has that id."""


class LeaseLostError(QueueError):
    """The caller no longer holds the task's lease: it expired and the task went to another consumer, or the
    task was acked, released or dead-lettered already. The caller's work on it must not be committed."""


def validate_enqueue(topic: str, priority: int, max_attempts: int, available_at: float,
                     expires_at: float | None) -> None:
    """Refuse arguments that no backend could store faithfully, with the same message on every backend."""
    if not topic or len(topic) > MAX_TOPIC_LENGTH:
        raise ValueError(f"topic must be 1 to {MAX_TOPIC_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x20 for c in topic) or "*" in topic or ">" in topic:
        raise ValueError(f"topic {topic!r} may not contain spaces, control characters, '*' or '>'")
    if not -MAX_PRIORITY <= priority <= MAX_PRIORITY:
        raise ValueError(f"priority must be within ±{MAX_PRIORITY}")
    if max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")
    if not math.isfinite(available_at):
        raise ValueError("available_at must be a finite time")
    if expires_at is not None and not math.isfinite(expires_at):
        raise ValueError("expires_at must be a finite time")


def new_task(topic: str, payload: bytes, now: float, *, dedupe_key: str | None, available_at: float | None,
             delay: float, expires_at: float | None, priority: int, max_attempts: int, tenant_id: str,
             meta: Mapping[str, str] | None) -> Task:
    """The task an ``enqueue`` stores, after the checks every backend applies alike."""
    at = (now if available_at is None else available_at) + delay
    validate_enqueue(topic, priority, max_attempts, at, expires_at)
    return Task(id=uuid.uuid4().hex, topic=topic, payload=bytes(payload), tenant_id=tenant_id, meta=dict(meta or {}),
                priority=priority, dedupe_key=dedupe_key, available_at=at, expires_at=expires_at,
                max_attempts=max_attempts, created_at=now)
