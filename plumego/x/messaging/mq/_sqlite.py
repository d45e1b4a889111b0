"""The embedded task queue: one SQLite file in WAL mode, shared by every process on the machine.

Owns the SQLite backend of :class:`TaskQueue`. Every state change is one ``BEGIN IMMEDIATE`` transaction with
``synchronous=FULL`` (through :class:`plumego.store.SQLiteDatabase`), so an acknowledged enqueue survives kill -9
and power loss, and several worker processes on one file never lease the same task twice. Wake-ups across
processes are by polling (``poll_interval``); inside one process an enqueue wakes the local waiters at once.
Imports the standard library and plumego.store only.

Beyond Go Plumego, whose embedded queue is in memory only: durable by default, multi-process, and done tasks can
be purged (``purge``) so the file does not grow without bound.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any

from plumego.store import SQLiteDatabase

from ._queue import QueueCapabilities
from ._rows import SELECT_LIST, check_identifier, dump_meta, task_from_row, verdict
from ._task import (
    DEFAULT_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    DuplicateTaskError,
    LeaseLostError,
    QueueStats,
    Task,
    TaskNotFoundError,
    TaskStatus,
    new_task,
)

__all__ = ["SQLiteTaskQueue"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {t} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    status TEXT NOT NULL,
    tenant_id TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT '{{}}',
    priority INTEGER NOT NULL DEFAULT 0,
    dedupe_key TEXT,
    available_at REAL NOT NULL,
    expires_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS {t}_dedupe ON {t} (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS {t}_ready ON {t} (status, topic, priority DESC, available_at, seq);
CREATE INDEX IF NOT EXISTS {t}_leases ON {t} (status, lease_until);
CREATE INDEX IF NOT EXISTS {t}_updated ON {t} (status, updated_at);
"""


class SQLiteTaskQueue:
    """A :class:`TaskQueue` on one SQLite file (``sqlite:///path/to/queue.db``)."""

    capabilities = QueueCapabilities(priority=True, push_wakeups=False, shared=True)

    def __init__(self, path: str | PathLike[str], *, table: str = "mq_tasks", poll_interval: float = 0.2,
                 clock: Callable[[], float] = time.time) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be > 0")
        self._t = check_identifier(table)
        self._clock = clock
        self._poll = poll_interval
        self._db = SQLiteDatabase(path)
        self._waiters: set[asyncio.Event] = set()
        self._db.apply_schema(_SCHEMA.format(t=self._t))

    # -- producer ---------------------------------------------------------------------------------------------

    async def enqueue(self, topic: str, payload: bytes, *, dedupe_key: str | None = None,
                      available_at: float | None = None, delay: float = 0.0, expires_at: float | None = None,
                      priority: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS, tenant_id: str = "",
                      meta: Mapping[str, str] | None = None) -> Task:
        now = self._clock()
        task = new_task(topic, payload, now, dedupe_key=dedupe_key, available_at=available_at, delay=delay,
                        expires_at=expires_at, priority=priority, max_attempts=max_attempts, tenant_id=tenant_id,
                        meta=meta)
        await asyncio.to_thread(self._insert, task, dump_meta(meta))
        self._wake()
        return task

    def _insert(self, task: Task, meta: str) -> None:
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO {self._t} (id, topic, payload, status, tenant_id, meta, priority, dedupe_key,"
                    " available_at, expires_at, attempts, max_attempts, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    (task.id, task.topic, task.payload, task.tenant_id, meta, task.priority, task.dedupe_key,
                     task.available_at, task.expires_at, task.max_attempts, task.created_at, task.created_at))
        except sqlite3.IntegrityError:
            if task.dedupe_key is None:
                raise
            with self._db.read() as conn:
                row = conn.execute(f"SELECT id FROM {self._t} WHERE dedupe_key = ?", (task.dedupe_key,)).fetchone()
            if row is None:    # the holder was purged between the two statements: a real conflict of another kind
                raise
            raise DuplicateTaskError(task.dedupe_key, row[0]) from None

    # -- consumer ---------------------------------------------------------------------------------------------

    async def reserve(self, topics: Sequence[str], *, consumer_id: str, limit: int = 1,
                      lease: float = DEFAULT_LEASE) -> list[Task]:
        if not topics or limit < 1:
            return []
        if lease <= 0:
            raise ValueError("lease must be > 0")
        if not consumer_id:
            raise ValueError("consumer_id must not be empty")
        return await asyncio.to_thread(self._reserve, list(dict.fromkeys(topics)), consumer_id, limit, lease)

    def _reserve(self, topics: list[str], consumer_id: str, limit: int, lease: float) -> list[Task]:
        now = self._clock()
        marks = ", ".join("?" * len(topics))
        out: list[Task] = []
        with self._db.write() as conn:
            while len(out) < limit:
                rows = conn.execute(
                    f"SELECT seq, status, expires_at, attempts, max_attempts FROM {self._t}"
                    f" WHERE topic IN ({marks}) AND ((status = 'queued' AND available_at <= ?)"
                    "  OR (status = 'leased' AND lease_until <= ?))"
                    " ORDER BY priority DESC, available_at, seq LIMIT ?",
                    (*topics, now, now, limit - len(out))).fetchall()
                if not rows:
                    break
                for seq, status, expires_at, attempts, max_attempts in rows:
                    v = verdict(status, expires_at, attempts, max_attempts, now)
                    if v == "expire":
                        conn.execute(f"UPDATE {self._t} SET status = 'expired', lease_owner = NULL,"
                                     " lease_until = NULL, updated_at = ? WHERE seq = ?", (now, seq))
                    elif v == "dead":
                        conn.execute(f"UPDATE {self._t} SET status = 'dead', lease_owner = NULL, lease_until = NULL,"
                                     " updated_at = ?, last_error = ? WHERE seq = ?",
                                     (now, f"lease expired on attempt {attempts} of {max_attempts}", seq))
                    else:
                        row = conn.execute(
                            f"UPDATE {self._t} SET status = 'leased', lease_owner = ?, lease_until = ?,"
                            f" attempts = attempts + 1, updated_at = ? WHERE seq = ? RETURNING {SELECT_LIST}",
                            (consumer_id, now + lease, now, seq)).fetchone()
                        out.append(task_from_row(row))
        return out

    async def ack(self, task_id: str, consumer_id: str) -> None:
        await asyncio.to_thread(self._owned_update, task_id, consumer_id,
                                "status = 'done', lease_owner = NULL, lease_until = NULL, updated_at = ?",
                                (self._clock(),), "1")

    async def release(self, task_id: str, consumer_id: str, *, retry_at: float | None = None,
                      error: str = "") -> Task:
        now = self._clock()
        task: Task = await asyncio.to_thread(
            self._owned_update, task_id, consumer_id,
            "status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, available_at = ?,"
            " lease_owner = NULL, lease_until = NULL, updated_at = ?, last_error = ?",
            (now if retry_at is None else retry_at, now, error))
        return task

    async def extend_lease(self, task_id: str, consumer_id: str, lease: float = DEFAULT_LEASE) -> float:
        if lease <= 0:
            raise ValueError("lease must be > 0")
        now = self._clock()
        (until,) = await asyncio.to_thread(self._owned_update, task_id, consumer_id, "lease_until = ?, updated_at = ?",
                                           (now + lease, now), "lease_until")
        return float(until)

    async def move_to_dlq(self, task_id: str, consumer_id: str, reason: str = "") -> None:
        await asyncio.to_thread(self._owned_update, task_id, consumer_id,
                                "status = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = ?,"
                                " last_error = ?", (self._clock(), reason), "1")

    def _owned_update(self, task_id: str, consumer_id: str, assignments: str, params: tuple[object, ...],
                      returning: str = SELECT_LIST) -> Any:
        """The UPDATE of a task the caller holds; the whole task, or the ``returning`` row (ack asks for less)."""
        with self._db.write() as conn:
            row = conn.execute(
                f"UPDATE {self._t} SET {assignments} WHERE id = ? AND status = 'leased' AND lease_owner = ?"
                f" RETURNING {returning}", (*params, task_id, consumer_id)).fetchone()
            if row is not None:
                return task_from_row(row) if returning == SELECT_LIST else row
            exists = conn.execute(f"SELECT 1 FROM {self._t} WHERE id = ?", (task_id,)).fetchone()
        if exists is None:
            raise TaskNotFoundError(task_id)
        raise LeaseLostError(f"{consumer_id!r} does not hold the lease of task {task_id}")

    # -- administration ---------------------------------------------------------------------------------------

    async def replay_dlq(self, *, limit: int = 100, reset_attempts: bool = True) -> int:
        now = self._clock()

        def run() -> int:
            with self._db.write() as conn:
                cur = conn.execute(
                    f"UPDATE {self._t} SET status = 'queued', available_at = ?, updated_at = ?, last_error = '',"
                    " attempts = CASE WHEN ? THEN 0 ELSE attempts END"
                    f" WHERE seq IN (SELECT seq FROM {self._t} WHERE status = 'dead' ORDER BY updated_at, seq"
                    " LIMIT ?)", (now, now, reset_attempts, limit))
                return cur.rowcount

        n = await asyncio.to_thread(run)
        if n:
            self._wake()
        return n

    async def purge(self, *, finished_before: float) -> int:
        """Delete done and expired tasks finished before the given time (their dedupe keys become free again)."""
        def run() -> int:
            with self._db.write() as conn:
                return conn.execute(f"DELETE FROM {self._t} WHERE status IN ('done', 'expired') AND updated_at < ?",
                                    (finished_before,)).rowcount
        return await asyncio.to_thread(run)

    async def get(self, task_id: str) -> Task | None:
        def run() -> Task | None:
            with self._db.read() as conn:
                row = conn.execute(f"SELECT {SELECT_LIST} FROM {self._t} WHERE id = ?", (task_id,)).fetchone()
            return None if row is None else task_from_row(row)
        return await asyncio.to_thread(run)

    async def stats(self) -> QueueStats:
        now = self._clock()

        def run() -> QueueStats:
            with self._db.write() as conn:    # sweep first, so queued-but-expired tasks count as expired
                conn.execute(f"UPDATE {self._t} SET status = 'expired', lease_owner = NULL, lease_until = NULL,"
                             " updated_at = ? WHERE expires_at <= ? AND (status = 'queued'"
                             " OR (status = 'leased' AND lease_until <= ?))", (now, now, now))
                counts = dict(conn.execute(f"SELECT status, COUNT(*) FROM {self._t} GROUP BY status").fetchall())
            return QueueStats(**{s.value: int(counts.get(s.value, 0)) for s in TaskStatus})
        return await asyncio.to_thread(run)

    # -- waiting and shutdown ---------------------------------------------------------------------------------

    async def wait(self, topics: Sequence[str], timeout: float) -> None:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout=min(timeout, self._poll))
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(event)

    def _wake(self) -> None:
        for event in tuple(self._waiters):
            event.set()

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)
