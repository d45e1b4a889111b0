"""Quota and rate-limit state in a SQLite file, shared by every process on the machine that opens it.

Owns the SQLite backend of :class:`TenantStateStore`: each operation is one ``BEGIN IMMEDIATE`` transaction
(plumego.store's SQLiteDatabase: WAL, busy timeout; ``synchronous=NORMAL`` here), so uvicorn workers on one host
together never admit more than the quota. Runs its blocking work in a worker thread. Imports the standard
library and plumego.store.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable, Sequence
from os import PathLike
from typing import TypeVar

from plumego.store import SQLiteDatabase, StoreClosedError

from ._core import StateUnavailableError
from ._state import (
    BucketResult,
    Reservation,
    SlidingResult,
    StateCapabilities,
    WindowSpec,
    WindowUsage,
    check_amounts,
    fits,
    refill,
)

__all__ = ["SQLiteStateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant_quota_windows (
    tenant TEXT NOT NULL, name TEXT NOT NULL, start INTEGER NOT NULL, ends INTEGER NOT NULL,
    requests INTEGER NOT NULL, tokens INTEGER NOT NULL, PRIMARY KEY (tenant, name));
CREATE INDEX IF NOT EXISTS tenant_quota_windows_ends ON tenant_quota_windows (ends);
CREATE TABLE IF NOT EXISTS tenant_quota_events (
    tenant TEXT NOT NULL, at REAL NOT NULL, requests INTEGER NOT NULL, tokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tenant_quota_events_at ON tenant_quota_events (tenant, at);
CREATE TABLE IF NOT EXISTS tenant_buckets (
    tenant TEXT PRIMARY KEY, tokens REAL NOT NULL, last REAL NOT NULL, capacity REAL NOT NULL)
"""

T = TypeVar("T")


class SQLiteStateStore:
    capabilities = StateCapabilities(shared=True)

    def __init__(self, path: str | PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self._db = SQLiteDatabase(path, busy_timeout=busy_timeout)
        self._db.apply_schema(_SCHEMA)
        with self._db.read() as conn:
            # Counters, not records: WAL with synchronous=NORMAL stays consistent and atomic across processes, and a
            # power cut can only forget the last moments' usage (it never corrupts or double-counts). FULL would
            # cost an fsync per request.
            conn.execute("PRAGMA synchronous = NORMAL")
        self._ops = 0

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def work() -> T:
            with self._db.write() as conn:
                return fn(conn)
        try:
            return await asyncio.to_thread(work)
        except (sqlite3.OperationalError, StoreClosedError) as exc:
            raise StateUnavailableError(f"sqlite state store: {exc}") from exc

    @staticmethod
    def _current(conn: sqlite3.Connection, key: str, spec: WindowSpec) -> tuple[int, int]:
        row = conn.execute("SELECT start, requests, tokens FROM tenant_quota_windows WHERE tenant = ? AND name = ?",
                           (key, spec.name)).fetchone()
        return (0, 0) if row is None or row[0] != spec.start else (int(row[1]), int(row[2]))

    async def reserve(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> Reservation:
        check_amounts(requests, tokens)
        self._ops += 1
        purge = self._ops % 1024 == 0

        def op(conn: sqlite3.Connection) -> Reservation:
            current = [self._current(conn, key, w) for w in windows]
            for spec, (r, t) in zip(windows, current, strict=True):
                if not (fits(r, requests, spec.max_requests) and fits(t, tokens, spec.max_tokens)):
                    return Reservation(False, tuple(WindowUsage(w.name, u[0], u[1])
                                                    for w, u in zip(windows, current, strict=True)), spec.name)
            usage = []
            for spec, (r, t) in zip(windows, current, strict=True):
                conn.execute("INSERT INTO tenant_quota_windows VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, name)"
                             " DO UPDATE SET start = excluded.start, ends = excluded.ends,"
                             " requests = excluded.requests, tokens = excluded.tokens",
                             (key, spec.name, spec.start, spec.end, r + requests, t + tokens))
                usage.append(WindowUsage(spec.name, r + requests, t + tokens))
            if purge and windows:
                conn.execute("DELETE FROM tenant_quota_windows WHERE ends <= ?", (windows[0].start,))
            return Reservation(True, tuple(usage))
        return await self._run(op)

    async def release(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> None:
        check_amounts(requests, tokens)

        def op(conn: sqlite3.Connection) -> None:
            for spec in windows:
                conn.execute("UPDATE tenant_quota_windows SET requests = MAX(0, requests - ?),"
                             " tokens = MAX(0, tokens - ?) WHERE tenant = ? AND name = ? AND start = ?",
                             (requests, tokens, key, spec.name, spec.start))
        await self._run(op)

    async def usage(self, key: str, windows: Sequence[WindowSpec]) -> tuple[WindowUsage, ...]:
        return await self._run(lambda conn: tuple(WindowUsage(w.name, *self._current(conn, key, w))
                                                  for w in windows))

    async def reserve_sliding(self, key: str, now: float, window: float, requests: int, tokens: int,
                              max_requests: int, max_tokens: int) -> SlidingResult:
        check_amounts(requests, tokens)

        def op(conn: sqlite3.Connection) -> SlidingResult:
            conn.execute("DELETE FROM tenant_quota_events WHERE tenant = ? AND at <= ?", (key, now - window))
            used_r, used_t, oldest = conn.execute(
                "SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(tokens), 0), COALESCE(MIN(at), 0)"
                " FROM tenant_quota_events WHERE tenant = ?", (key,)).fetchone()
            if not (fits(used_r, requests, max_requests) and fits(used_t, tokens, max_tokens)):
                return SlidingResult(False, int(used_r), int(used_t), float(oldest))
            conn.execute("INSERT INTO tenant_quota_events VALUES (?, ?, ?, ?)", (key, now, requests, tokens))
            return SlidingResult(True, int(used_r) + requests, int(used_t) + tokens, float(oldest) or now)
        return await self._run(op)

    async def take(self, key: str, now: float, rate: float, capacity: float, cost: float) -> BucketResult:
        def op(conn: sqlite3.Connection) -> BucketResult:
            row = conn.execute("SELECT tokens, last, capacity FROM tenant_buckets WHERE tenant = ?",
                               (key,)).fetchone()
            level = capacity if row is None else refill(row[0], row[1], row[2], now, rate, capacity)
            last = now if row is None else max(row[1], now)
            allowed = level >= cost
            left = level - cost if allowed else level
            conn.execute("INSERT INTO tenant_buckets VALUES (?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET"
                         " tokens = excluded.tokens, last = excluded.last, capacity = excluded.capacity",
                         (key, left, last, capacity))
            if allowed:
                return BucketResult(True, left, 0.0)
            return BucketResult(False, left, (cost - level) / rate if rate > 0 else math.inf)
        return await self._run(op)

    async def reset(self, key: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            for table in ("tenant_quota_windows", "tenant_quota_events", "tenant_buckets"):
                conn.execute(f"DELETE FROM {table} WHERE tenant = ?", (key,))
        await self._run(op)

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)
