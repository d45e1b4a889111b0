"""The task queue on PostgreSQL: ``FOR UPDATE SKIP LOCKED`` leases and LISTEN/NOTIFY wake-ups.

Owns the PostgreSQL backend of :class:`TaskQueue` (psycopg 3, async, through psycopg_pool). Any number of workers
on any number of machines share one table: ``reserve`` locks candidate rows with ``SKIP LOCKED`` so two consumers
never lease the same task and never wait on each other. An enqueue commits a ``NOTIFY`` in the same transaction,
so idle workers wake when a task arrives instead of polling (a slow poll remains as a safety net for a dropped
listener connection). Times are Unix seconds from the queue's clock, as on SQLite, so every backend makes the same
decisions; machines sharing a queue need synchronised clocks (NTP), as leases anywhere do.

Install with ``pip install 'plumego[postgres]'``; psycopg is imported when this module is. Imports the standard
library, psycopg and psycopg_pool; never plumego.core.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the PostgreSQL task queue needs psycopg 3: pip install 'plumego[postgres]'") from exc

from ._queue import QueueCapabilities
from ._rows import COLUMNS, SELECT_LIST, check_identifier, dump_meta, task_from_row
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

__all__ = ["PostgresTaskQueue", "split_queue_url"]

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {q} (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BYTEA NOT NULL,
    status TEXT NOT NULL,
    tenant_id TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT '{{}}',
    priority INTEGER NOT NULL DEFAULT 0,
    dedupe_key TEXT,
    available_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS {t}_dedupe ON {q} (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS {t}_ready ON {q} (status, topic, priority DESC, available_at, seq);
CREATE INDEX IF NOT EXISTS {t}_leases ON {q} (status, lease_until);
CREATE INDEX IF NOT EXISTS {t}_updated ON {q} (status, updated_at)
"""
# Lease, expire or dead-letter the due candidates in one statement; returns the task columns plus
# (priority, available_at, seq, leased?) so the caller can restore the order and keep only the leased rows.
_RESERVE = """
WITH c AS (
    SELECT seq FROM {q}
    WHERE topic = ANY(%(topics)s)
      AND ((status = 'queued' AND available_at <= %(now)s) OR (status = 'leased' AND lease_until <= %(now)s))
    ORDER BY priority DESC, available_at, seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), v AS (
    SELECT t.seq, CASE
        WHEN t.expires_at IS NOT NULL AND t.expires_at <= %(now)s THEN 'expired'
        WHEN t.status = 'leased' AND t.attempts >= t.max_attempts THEN 'dead'
        ELSE 'leased' END AS verdict
    FROM {q} t JOIN c ON c.seq = t.seq
)
UPDATE {q} t SET
    status = v.verdict,
    lease_owner = CASE WHEN v.verdict = 'leased' THEN %(owner)s END,
    lease_until = CASE WHEN v.verdict = 'leased' THEN %(until)s END,
    attempts = t.attempts + CASE WHEN v.verdict = 'leased' THEN 1 ELSE 0 END,
    last_error = CASE WHEN v.verdict = 'dead'
        THEN 'lease expired on attempt ' || t.attempts || ' of ' || t.max_attempts ELSE t.last_error END,
    updated_at = %(now)s
FROM v WHERE t.seq = v.seq
RETURNING """ + ", ".join(f"t.{c}" for c in COLUMNS) + """, t.priority, t.available_at, t.seq, v.verdict = 'leased'
"""
_SAFETY_POLL = 5.0   # seconds between polls when LISTEN is up (a NOTIFY is lost only if the listener reconnects)


def split_queue_url(url: str) -> tuple[str, str, str]:
    """Split ``postgresql://...?schema=S&table=T`` into (conninfo without our parameters, schema, table)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in params if k in ("schema", "table")}
    rest = [(k, v) for k, v in params if k not in ("schema", "table")]
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return (conninfo, check_identifier(ours.get("schema", "public"), "schema"),
            check_identifier(ours.get("table", "mq_tasks")))


class PostgresTaskQueue:
    """A :class:`TaskQueue` on a PostgreSQL table. Create it with ``await PostgresTaskQueue.open(url)``."""

    capabilities = QueueCapabilities(priority=True, push_wakeups=True, shared=True)

    def __init__(self, pool: AsyncConnectionPool[Any], conninfo: str, schema: str, table: str,
                 clock: Callable[[], float], safety_poll: float = _SAFETY_POLL) -> None:
        self._pool = pool
        self._conninfo = conninfo
        self._q = f"{schema}.{table}"
        self._channel = f"{schema}_{table}_ready"[:63]
        self._clock = clock
        self._ready = asyncio.Event()
        self._listening = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._closed = False
        self._safety_poll = safety_poll

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 10, clock: Callable[[], float] = time.time,
                   safety_poll: float = _SAFETY_POLL) -> PostgresTaskQueue:
        """Connect, create the schema and table if needed, and start listening for wake-ups. ``safety_poll`` is
        the longest ``wait`` sleeps without a notification (it only matters if a NOTIFY is lost)."""
        conninfo, schema, table = split_queue_url(url)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo, min_size=1, max_size=max_connections,
                                                             open=False, kwargs={"autocommit": True})
        await pool.open(wait=True)
        self = cls(pool, conninfo, schema, table, clock, safety_poll)
        try:
            async with pool.connection() as conn:
                for statement in _SCHEMA.format(s=schema, q=self._q, t=table).split(";"):
                    try:
                        await conn.execute(statement)
                    except (pg_errors.UniqueViolation, pg_errors.DuplicateObject):
                        await conn.rollback()   # two processes creating the same table at once: theirs won
        except BaseException:
            await pool.close()
            raise
        self._listener = asyncio.create_task(self._listen(), name=f"mq-listen-{self._channel}")
        try:    # once open returns, no NOTIFY is missed
            await asyncio.wait_for(self._listening.wait(), timeout=30)
        except BaseException:
            await self.close()
            raise
        return self

    # -- producer ---------------------------------------------------------------------------------------------

    async def enqueue(self, topic: str, payload: bytes, *, dedupe_key: str | None = None,
                      available_at: float | None = None, delay: float = 0.0, expires_at: float | None = None,
                      priority: int = 0, max_attempts: int = DEFAULT_MAX_ATTEMPTS, tenant_id: str = "",
                      meta: Mapping[str, str] | None = None) -> Task:
        now = self._clock()
        task = new_task(topic, payload, now, dedupe_key=dedupe_key, available_at=available_at, delay=delay,
                        expires_at=expires_at, priority=priority, max_attempts=max_attempts, tenant_id=tenant_id,
                        meta=meta)
        at = task.available_at
        try:
            async with self._pool.connection() as conn:     # one statement: the row and its NOTIFY commit together
                await conn.execute(
                    f"WITH ins AS (INSERT INTO {self._q} (id, topic, payload, status, tenant_id, meta, priority,"
                    " dedupe_key, available_at, expires_at, attempts, max_attempts, created_at, updated_at)"
                    " VALUES (%s, %s, %s, 'queued', %s, %s, %s, %s, %s, %s, 0, %s, %s, %s) RETURNING topic)"
                    " SELECT pg_notify(%s, topic) FROM ins",
                    (task.id, topic, task.payload, tenant_id, dump_meta(meta), priority, dedupe_key, at, expires_at,
                     max_attempts, now, now, self._channel))
        except pg_errors.UniqueViolation:
            if dedupe_key is None:
                raise
            async with self._pool.connection() as conn:
                cur = await conn.execute(f"SELECT id FROM {self._q} WHERE dedupe_key = %s", (dedupe_key,))
                row = await cur.fetchone()
            if row is None:
                raise
            raise DuplicateTaskError(dedupe_key, row[0]) from None
        return task

    # -- consumer ---------------------------------------------------------------------------------------------

    async def reserve(self, topics: Sequence[str], *, consumer_id: str, limit: int = 1,
                      lease: float = DEFAULT_LEASE) -> list[Task]:
        if not topics or limit < 1:
            return []
        if lease <= 0:
            raise ValueError("lease must be > 0")
        if not consumer_id:
            raise ValueError("consumer_id must not be empty")
        now = self._clock()
        wanted = list(dict.fromkeys(topics))
        out: list[Task] = []
        async with self._pool.connection() as conn:
            while len(out) < limit:
                # one statement: lock due candidates (SKIP LOCKED), then lease, expire or dead-letter each one by
                # the rule of _rows.verdict (the conformance suite keeps the two spellings in step)
                cur = await conn.execute(_RESERVE.format(q=self._q), {
                    "topics": wanted, "now": now, "limit": limit - len(out), "owner": consumer_id,
                    "until": now + lease})
                rows = await cur.fetchall()
                if not rows:
                    break
                rows.sort(key=lambda r: (-r[-4], r[-3], r[-2]))     # priority DESC, available_at, seq
                out.extend(task_from_row(r[:-4]) for r in rows if r[-1])
        return out

    async def ack(self, task_id: str, consumer_id: str) -> None:
        await self._owned_update(task_id, consumer_id,
                                 "status = 'done', lease_owner = NULL, lease_until = NULL, updated_at = %s",
                                 (self._clock(),), returning="1")

    async def release(self, task_id: str, consumer_id: str, *, retry_at: float | None = None,
                      error: str = "") -> Task:
        now = self._clock()
        task: Task = await self._owned_update(
            task_id, consumer_id,
            "status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, available_at = %s,"
            " lease_owner = NULL, lease_until = NULL, updated_at = %s, last_error = %s",
            (now if retry_at is None else retry_at, now, error), notify=True)
        return task

    async def extend_lease(self, task_id: str, consumer_id: str, lease: float = DEFAULT_LEASE) -> float:
        if lease <= 0:
            raise ValueError("lease must be > 0")
        now = self._clock()
        (until,) = await self._owned_update(task_id, consumer_id, "lease_until = %s, updated_at = %s",
                                            (now + lease, now), returning="lease_until")
        return float(until)

    async def move_to_dlq(self, task_id: str, consumer_id: str, reason: str = "") -> None:
        await self._owned_update(task_id, consumer_id,
                                 "status = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = %s,"
                                 " last_error = %s", (self._clock(), reason), returning="1")

    async def _owned_update(self, task_id: str, consumer_id: str, assignments: str, params: tuple[object, ...],
                            *, notify: bool = False, returning: str = SELECT_LIST) -> Any:
        """The UPDATE of a task the caller holds; returns the ``returning`` row (the whole task by default: ack
        and dead-lettering ask for less, which is most of the traffic)."""
        async with self._pool.connection() as conn:     # autocommit: the UPDATE is the whole transaction
            cur = await conn.execute(
                f"UPDATE {self._q} SET {assignments} WHERE id = %s AND status = 'leased' AND lease_owner = %s"
                f" RETURNING {returning}", (*params, task_id, consumer_id))
            row = await cur.fetchone()
            if row is not None:
                if returning != SELECT_LIST:
                    return row
                task = task_from_row(row)
                if notify and task.status == TaskStatus.QUEUED:
                    await conn.execute("SELECT pg_notify(%s, %s)", (self._channel, task.topic))
                return task
            cur = await conn.execute(f"SELECT 1 FROM {self._q} WHERE id = %s", (task_id,))
            exists = await cur.fetchone()
        if exists is None:
            raise TaskNotFoundError(task_id)
        raise LeaseLostError(f"{consumer_id!r} does not hold the lease of task {task_id}")

    # -- administration ---------------------------------------------------------------------------------------

    async def replay_dlq(self, *, limit: int = 100, reset_attempts: bool = True) -> int:
        now = self._clock()
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"UPDATE {self._q} SET status = 'queued', available_at = %s, updated_at = %s, last_error = '',"
                " attempts = CASE WHEN %s THEN 0 ELSE attempts END"
                f" WHERE seq IN (SELECT seq FROM {self._q} WHERE status = 'dead' ORDER BY updated_at, seq"
                " LIMIT %s FOR UPDATE SKIP LOCKED)", (now, now, reset_attempts, limit))
            n = int(cur.rowcount)
            if n:
                await conn.execute("SELECT pg_notify(%s, %s)", (self._channel, "*"))
        return n

    async def purge(self, *, finished_before: float) -> int:
        """Delete done and expired tasks finished before the given time (their dedupe keys become free again)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(f"DELETE FROM {self._q} WHERE status IN ('done', 'expired') AND updated_at < %s",
                                     (finished_before,))
            return int(cur.rowcount)

    async def get(self, task_id: str) -> Task | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(f"SELECT {SELECT_LIST} FROM {self._q} WHERE id = %s", (task_id,))
            row = await cur.fetchone()
        return None if row is None else task_from_row(row)

    async def stats(self) -> QueueStats:
        now = self._clock()
        async with self._pool.connection() as conn:
            await conn.execute(f"UPDATE {self._q} SET status = 'expired', lease_owner = NULL, lease_until = NULL,"
                               " updated_at = %s WHERE expires_at <= %s AND (status = 'queued'"
                               " OR (status = 'leased' AND lease_until <= %s))", (now, now, now))
            cur = await conn.execute(f"SELECT status, COUNT(*) FROM {self._q} GROUP BY status")
            counts = {str(s): int(n) for s, n in await cur.fetchall()}
        return QueueStats(**{s.value: counts.get(s.value, 0) for s in TaskStatus})

    # -- waiting and shutdown ---------------------------------------------------------------------------------

    async def wait(self, topics: Sequence[str], timeout: float) -> None:
        if self._ready.is_set():
            self._ready.clear()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=min(timeout, self._safety_poll))
        self._ready.clear()

    async def _listen(self) -> None:
        """Hold one LISTEN connection; every notification (or a reconnect, which may have lost some) wakes
        the waiters. Reconnects with a short back-off while the queue is open."""
        backoff = 0.1
        while not self._closed:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f'LISTEN "{self._channel}"')
                    if self._listening.is_set():    # a reconnect: notifications may have been lost meanwhile
                        self._ready.set()
                    self._listening.set()
                    backoff = 0.1
                    async for _ in conn.notifies():
                        self._ready.set()
            except asyncio.CancelledError:
                raise
            except Exception:       # the server went away: wait, reconnect, and wake everyone once reconnected
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._pool.close()
