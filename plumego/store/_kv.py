"""KV contract and the durable embedded KV store on SQLite (WAL mode).

Go Plumego's KV store keeps everything in memory and rewrites one JSON file on every write (O(N) per write, no
cross-process lock). This one writes one row per key inside a ``BEGIN IMMEDIATE`` transaction on a WAL database:
O(log N) per write, acknowledged writes survive kill -9, several processes may write concurrently, and a
multi-key write is all-or-nothing. Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Protocol, runtime_checkable

from plumego.contract import INT64_MAX

from ._errors import ValueTooLargeError
from ._keys import validate_key
from ._sqlite import SQLiteDatabase

__all__ = ["KVStore", "KVStats", "SQLiteKVStore", "prefix_upper_bound"]

_MAX_CODEPOINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


@runtime_checkable
class KVStore(Protocol):
    """What a durable key-value backend provides. Async so a Redis or PostgreSQL backend (x/data) drops in.

    ``ttl`` is in seconds (``None`` or <= 0: no expiry). Expired keys are invisible to every read. ``keys`` and
    ``scan`` return keys in ascending code-point order; ``prefix`` matches literally (no wildcards).
    """

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None = None) -> None: ...

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool: ...

    async def delete(self, key: str) -> bool: ...

    async def exists(self, key: str) -> bool: ...

    async def keys(self, prefix: str = "", limit: int | None = None) -> list[str]: ...

    async def scan(self, prefix: str = "", limit: int | None = None) -> list[tuple[str, bytes]]: ...

    async def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class KVStats:
    """Live entries in the database plus this instance's read counters."""

    entries: int
    hits: int
    misses: int

    @property
    def hit_ratio(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


def prefix_upper_bound(prefix: str) -> str | None:
    """Smallest string greater than every string that starts with ``prefix`` (``None``: no upper bound).

    Lets a prefix scan be an index range scan ``prefix <= key < bound`` instead of ``LIKE``, which treats ``%`` and
    ``_`` as wildcards and folds ASCII case. SQLite's BINARY collation compares UTF-8 bytes, which is code-point
    order, the same order Python uses for ``str``.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < _MAX_CODEPOINT:
            nxt = last + 1
            if nxt in _SURROGATES:
                nxt = _SURROGATES.stop
            return "".join(chars) + chr(nxt)
    return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS plumego_kv (
    key        TEXT PRIMARY KEY NOT NULL,
    value      BLOB NOT NULL,
    expires_at REAL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS plumego_kv_expires ON plumego_kv (expires_at) WHERE expires_at IS NOT NULL;
"""

_LIVE = "(expires_at IS NULL OR expires_at > ?)"


class SQLiteKVStore:
    """Durable KV store in one SQLite file; implements :class:`KVStore`.

    Every async method runs its blocking twin (``<name>_sync``) in a worker thread, so the event loop never waits
    on disk. Use the ``_sync`` methods directly from scripts, worker processes or sync handlers.

    Durability: a write returns only after its transaction committed with ``synchronous=FULL`` in WAL mode.
    Expired rows are invisible at once and deleted in small batches by later writes (or :meth:`purge_expired_sync`).
    """

    PURGE_EVERY = 256
    PURGE_BATCH = 256

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        busy_timeout: float = 30.0,
        max_value_bytes: int = 16 * 1024 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_value_bytes <= 0:
            raise ValueError("max_value_bytes must be > 0")
        self._db = SQLiteDatabase(path, busy_timeout=busy_timeout)
        self._clock = clock
        self._max_value_bytes = max_value_bytes
        self._counter_lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._writes = 0
        self._db.apply_schema(_SCHEMA)

    @property
    def path(self) -> str:
        return self._db.path

    # -- async contract -----------------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self.get_sync, key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await asyncio.to_thread(self.set_sync, key, value, ttl)

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None = None) -> None:
        await asyncio.to_thread(self.set_many_sync, items, ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        return await asyncio.to_thread(self.set_if_absent_sync, key, value, ttl)

    async def delete(self, key: str) -> bool:
        return await asyncio.to_thread(self.delete_sync, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.exists_sync, key)

    async def keys(self, prefix: str = "", limit: int | None = None) -> list[str]:
        return await asyncio.to_thread(self.keys_sync, prefix, limit)

    async def scan(self, prefix: str = "", limit: int | None = None) -> list[tuple[str, bytes]]:
        return await asyncio.to_thread(self.scan_sync, prefix, limit)

    async def count(self) -> int:
        return await asyncio.to_thread(self.count_sync)

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)

    # -- blocking twins -----------------------------------------------------------------------------------

    def get_sync(self, key: str) -> bytes | None:
        validate_key(key)
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT value FROM plumego_kv WHERE key = ? AND {_LIVE}", (key, self._clock())
            ).fetchone()
        with self._counter_lock:
            if row is None:
                self._misses += 1
                return None
            self._hits += 1
        return bytes(row[0])

    def exists_sync(self, key: str) -> bool:
        validate_key(key)
        with self._db.read() as conn:
            row = conn.execute(f"SELECT 1 FROM plumego_kv WHERE key = ? AND {_LIVE}", (key, self._clock())).fetchone()
        return row is not None

    def set_sync(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.set_many_sync({key: value}, ttl)

    def set_many_sync(self, items: Mapping[str, bytes], ttl: float | None = None) -> None:
        """Write every item in one transaction: after a crash either all of them are present or none is."""
        rows = [(key, self._checked_value(key, value)) for key, value in items.items()]
        if not rows:
            return
        now = self._clock()
        expires_at = self._expiry(now, ttl)
        with self._db.write() as conn:
            conn.executemany(
                "INSERT INTO plumego_kv (key, value, expires_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, "
                "updated_at = excluded.updated_at",
                [(key, value, expires_at, now) for key, value in rows],
            )
            self._maybe_purge(conn, now)

    def set_if_absent_sync(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store ``value`` only if no live value exists; returns whether it was stored. Atomic across processes."""
        blob = self._checked_value(key, value)
        now = self._clock()
        with self._db.write() as conn:
            cur = conn.execute(
                "INSERT INTO plumego_kv (key, value, expires_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, "
                "updated_at = excluded.updated_at WHERE plumego_kv.expires_at IS NOT NULL "
                "AND plumego_kv.expires_at <= ?",
                (key, blob, self._expiry(now, ttl), now, now),
            )
            return cur.rowcount == 1

    def delete_sync(self, key: str) -> bool:
        """Delete ``key``; returns whether a live value was there."""
        validate_key(key)
        now = self._clock()
        with self._db.write() as conn:
            row = conn.execute("DELETE FROM plumego_kv WHERE key = ? RETURNING expires_at", (key,)).fetchone()
        return row is not None and (row[0] is None or float(row[0]) > now)

    def keys_sync(self, prefix: str = "", limit: int | None = None) -> list[str]:
        return [key for key, _ in self._scan(prefix, limit, with_values=False)]

    def scan_sync(self, prefix: str = "", limit: int | None = None) -> list[tuple[str, bytes]]:
        return self._scan(prefix, limit, with_values=True)

    def count_sync(self) -> int:
        with self._db.read() as conn:
            row = conn.execute(f"SELECT COUNT(*) FROM plumego_kv WHERE {_LIVE}", (self._clock(),)).fetchone()
        return int(row[0])

    def purge_expired_sync(self) -> int:
        """Delete every expired row now; returns how many were deleted."""
        with self._db.write() as conn:
            cur = conn.execute(
                "DELETE FROM plumego_kv WHERE expires_at IS NOT NULL AND expires_at <= ?", (self._clock(),)
            )
            return cur.rowcount

    def stats_sync(self) -> KVStats:
        entries = self.count_sync()
        with self._counter_lock:
            return KVStats(entries=entries, hits=self._hits, misses=self._misses)

    def close_sync(self) -> None:
        self._db.close()

    # -- internals --------------------------------------------------------------------------------------------

    def _checked_value(self, key: str, value: bytes) -> bytes:
        validate_key(key)
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError("KV values are bytes")
        blob = bytes(value)
        if len(blob) > self._max_value_bytes:
            raise ValueTooLargeError(f"value of {len(blob)} bytes exceeds max_value_bytes={self._max_value_bytes}")
        return blob

    @staticmethod
    def _expiry(now: float, ttl: float | None) -> float | None:
        return now + ttl if ttl is not None and ttl > 0 else None

    def _maybe_purge(self, conn: sqlite3.Connection, now: float) -> None:
        with self._counter_lock:
            self._writes += 1
            due = self._writes % self.PURGE_EVERY == 0
        if due:
            conn.execute(
                "DELETE FROM plumego_kv WHERE key IN (SELECT key FROM plumego_kv "
                "WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
                (now, self.PURGE_BATCH),
            )

    def _scan(self, prefix: str, limit: int | None, *, with_values: bool) -> list[tuple[str, bytes]]:
        if prefix:
            validate_key(prefix)
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        columns = "key, value" if with_values else "key, NULL"
        sql = f"SELECT {columns} FROM plumego_kv WHERE {_LIVE}"
        params: list[object] = [self._clock()]
        if prefix:
            sql += " AND key >= ?"
            params.append(prefix)
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                sql += " AND key < ?"
                params.append(upper)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(min(limit, INT64_MAX))  # SQLite binds 64-bit integers; no table holds more rows
        with self._db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [(str(k), bytes(v) if v is not None else b"") for k, v in rows]
