"""Idempotency contract with in-memory and SQLite implementations: one execution per key, replay afterwards.

Go Plumego's stable idempotency package is a contract only. Here a retried request with the same key gets the
first response and never runs twice: ``begin`` takes an in-progress lock (with a lock TTL so a crashed worker does
not wedge the key), ``complete`` stores the response, and a reused key with a different request fingerprint is a
conflict. Imports only the standard library.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from os import PathLike
from typing import Protocol, runtime_checkable

from ._errors import (
    IdempotencyConflictError,
    IdempotencyInProgressError,
    IdempotencyLockLostError,
    InvalidKeyError,
)
from ._keys import validate_key
from ._sqlite import SQLiteDatabase

__all__ = [
    "IdempotencyStatus",
    "IdempotencyRecord",
    "IdempotencyClaim",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "SQLiteIdempotencyStore",
    "request_fingerprint",
    "DEFAULT_IDEMPOTENCY_TTL",
    "DEFAULT_LOCK_TTL",
]

#: How long a completed response is replayed (seconds). Stripe keeps keys 24 h; so do we by default.
DEFAULT_IDEMPOTENCY_TTL = 24 * 3600.0
#: How long an in-progress lock protects a key before another worker may take it over (a crashed worker).
DEFAULT_LOCK_TTL = 60.0


class IdempotencyStatus(str, enum.Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """One key's state. ``response`` is opaque bytes chosen by the caller (the middleware serialises status,
    headers and body). ``lock_token`` identifies the worker holding an in-progress lock."""

    key: str
    fingerprint: str
    status: IdempotencyStatus
    response: bytes | None
    created_at: float
    updated_at: float
    expires_at: float
    lock_token: str | None = None
    lock_expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """Outcome of :meth:`IdempotencyStore.begin`.

    ``acquired``: the caller owns the key; run the request, then ``complete(key, token, response)`` or, on failure,
    ``release(key, token)``. Otherwise ``record`` is the completed record to replay.
    """

    acquired: bool
    token: str | None
    record: IdempotencyRecord | None

    @property
    def response(self) -> bytes | None:
        return self.record.response if self.record is not None else None


@runtime_checkable
class IdempotencyStore(Protocol):
    """What an idempotency backend provides; a Redis or PostgreSQL backend in x/data implements the same.

    ``begin`` raises :class:`IdempotencyConflictError` for a reused key with another fingerprint and
    :class:`IdempotencyInProgressError` while another worker holds the key's lock.
    """

    async def begin(
        self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL, lock_ttl: float = DEFAULT_LOCK_TTL
    ) -> IdempotencyClaim: ...

    async def complete(self, key: str, token: str, response: bytes) -> IdempotencyRecord: ...

    async def release(self, key: str, token: str) -> None: ...

    async def get(self, key: str) -> IdempotencyRecord | None: ...

    async def delete(self, key: str) -> bool: ...


def request_fingerprint(
    method: str, path: str, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()
) -> str:
    """SHA-256 over method, path, the selected headers and the body, each length-prefixed (no ambiguity)."""
    digest = hashlib.sha256()

    def field(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    field(method.upper().encode())
    field(path.encode())
    for name, value in sorted((n.lower(), v) for n, v in headers):
        field(name.encode())
        field(value.encode())
    field(body)
    return digest.hexdigest()


def _validate(key: str, fingerprint: str, ttl: float, lock_ttl: float) -> None:
    validate_key(key)
    if not fingerprint:
        raise InvalidKeyError("fingerprint is required")
    if ttl <= 0 or lock_ttl <= 0:
        raise ValueError("ttl and lock_ttl must be > 0")


def _begin(
    current: IdempotencyRecord | None, key: str, fingerprint: str, now: float, ttl: float, lock_ttl: float
) -> tuple[IdempotencyClaim, IdempotencyRecord | None]:
    """The begin decision, shared by every embedded backend: returns the claim and the record to write (if any)."""
    if current is not None and current.expires_at <= now:
        current = None
    if current is not None:
        if current.fingerprint != fingerprint:
            raise IdempotencyConflictError(f"idempotency key {key!r} was used with a different request")
        if current.status is IdempotencyStatus.COMPLETED:
            return IdempotencyClaim(acquired=False, token=None, record=current), None
        if current.lock_expires_at is not None and current.lock_expires_at > now:
            raise IdempotencyInProgressError(f"idempotency key {key!r} is being processed")
    token = secrets.token_urlsafe(18)
    created = current.created_at if current is not None else now
    record = IdempotencyRecord(
        key=key,
        fingerprint=fingerprint,
        status=IdempotencyStatus.IN_PROGRESS,
        response=None,
        created_at=created,
        updated_at=now,
        expires_at=max(created + ttl, now + lock_ttl),
        lock_token=token,
        lock_expires_at=now + lock_ttl,
    )
    return IdempotencyClaim(acquired=True, token=token, record=None), record


def _owned(current: IdempotencyRecord | None, key: str, token: str, now: float) -> IdempotencyRecord:
    if (
        current is None
        or current.expires_at <= now
        or current.status is not IdempotencyStatus.IN_PROGRESS
        or current.lock_token != token
    ):
        raise IdempotencyLockLostError(f"lock on idempotency key {key!r} is not held by this token")
    return current


def _completed(current: IdempotencyRecord, response: bytes, now: float) -> IdempotencyRecord:
    return replace(
        current,
        status=IdempotencyStatus.COMPLETED,
        response=bytes(response),
        updated_at=now,
        lock_token=None,
        lock_expires_at=None,
    )


class IdempotencyRules:
    """The decisions every :class:`IdempotencyStore` applies inside its own atomic step, as pure functions over
    the current :class:`IdempotencyRecord` and the caller's clock: a completed record replays, a live lock refuses,
    an expired lock is taken over, another fingerprint conflicts, and only the lock holder may complete or release.

    The memory and SQLite stores here use them; a backend elsewhere (x/data's PostgreSQL, MySQL and Redis stores)
    calls the same functions so that it decides exactly as these do.
    """

    validate = staticmethod(_validate)
    begin = staticmethod(_begin)
    owned = staticmethod(_owned)
    completed = staticmethod(_completed)


class MemoryIdempotencyStore:
    """In-process idempotency store (one process only); implements :class:`IdempotencyStore`.

    Bounded by ``max_entries``: the oldest records that are not in progress are dropped first.
    """

    def __init__(self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be > 0")
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._records: OrderedDict[str, IdempotencyRecord] = OrderedDict()

    async def begin(
        self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL, lock_ttl: float = DEFAULT_LOCK_TTL
    ) -> IdempotencyClaim:
        return self.begin_sync(key, fingerprint, ttl=ttl, lock_ttl=lock_ttl)

    async def complete(self, key: str, token: str, response: bytes) -> IdempotencyRecord:
        return self.complete_sync(key, token, response)

    async def release(self, key: str, token: str) -> None:
        self.release_sync(key, token)

    async def get(self, key: str) -> IdempotencyRecord | None:
        return self.get_sync(key)

    async def delete(self, key: str) -> bool:
        return self.delete_sync(key)

    def begin_sync(
        self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL, lock_ttl: float = DEFAULT_LOCK_TTL
    ) -> IdempotencyClaim:
        _validate(key, fingerprint, ttl, lock_ttl)
        with self._lock:
            now = self._clock()
            claim, record = _begin(self._records.get(key), key, fingerprint, now, ttl, lock_ttl)
            if record is not None:
                self._records[key] = record
                self._records.move_to_end(key)
                self._shrink(now)
            return claim

    def complete_sync(self, key: str, token: str, response: bytes) -> IdempotencyRecord:
        with self._lock:
            now = self._clock()
            done = _completed(_owned(self._records.get(key), key, token, now), response, now)
            self._records[key] = done
            return done

    def release_sync(self, key: str, token: str) -> None:
        with self._lock:
            _owned(self._records.get(key), key, token, self._clock())
            del self._records[key]

    def get_sync(self, key: str) -> IdempotencyRecord | None:
        validate_key(key)
        with self._lock:
            record = self._records.get(key)
            if record is None or record.expires_at <= self._clock():
                return None
            return record

    def delete_sync(self, key: str) -> bool:
        with self._lock:
            return self._records.pop(key, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def _shrink(self, now: float) -> None:
        if len(self._records) <= self._max_entries:
            return
        for key in [k for k, r in self._records.items() if r.expires_at <= now]:
            del self._records[key]
        for key, record in list(self._records.items()):
            if len(self._records) <= self._max_entries:
                break
            if record.status is IdempotencyStatus.COMPLETED:
                del self._records[key]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS plumego_idempotency (
    key             TEXT PRIMARY KEY NOT NULL,
    fingerprint     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('in_progress', 'completed')),
    response        BLOB,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    expires_at      REAL NOT NULL,
    lock_token      TEXT,
    lock_expires_at REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS plumego_idempotency_expires ON plumego_idempotency (expires_at);
"""

_COLUMNS = "key, fingerprint, status, response, created_at, updated_at, expires_at, lock_token, lock_expires_at"


class SQLiteIdempotencyStore:
    """Durable idempotency store on SQLite (WAL); several processes may share one file.

    ``begin`` runs in a ``BEGIN IMMEDIATE`` transaction, so two processes racing on one key cannot both acquire
    it. Implements :class:`IdempotencyStore`; ``*_sync`` twins block.
    """

    def __init__(
        self, path: str | PathLike[str], *, busy_timeout: float = 30.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = SQLiteDatabase(path, busy_timeout=busy_timeout)
        self._clock = clock
        self._db.apply_schema(_SCHEMA)

    async def begin(
        self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL, lock_ttl: float = DEFAULT_LOCK_TTL
    ) -> IdempotencyClaim:
        return await asyncio.to_thread(self.begin_sync, key, fingerprint, ttl=ttl, lock_ttl=lock_ttl)

    async def complete(self, key: str, token: str, response: bytes) -> IdempotencyRecord:
        return await asyncio.to_thread(self.complete_sync, key, token, response)

    async def release(self, key: str, token: str) -> None:
        await asyncio.to_thread(self.release_sync, key, token)

    async def get(self, key: str) -> IdempotencyRecord | None:
        return await asyncio.to_thread(self.get_sync, key)

    async def delete(self, key: str) -> bool:
        return await asyncio.to_thread(self.delete_sync, key)

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)

    def begin_sync(
        self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL, lock_ttl: float = DEFAULT_LOCK_TTL
    ) -> IdempotencyClaim:
        _validate(key, fingerprint, ttl, lock_ttl)
        with self._db.write() as conn:
            now = self._clock()
            claim, record = _begin(self._load(conn, key), key, fingerprint, now, ttl, lock_ttl)
            if record is not None:
                self._save(conn, record)
            return claim

    def complete_sync(self, key: str, token: str, response: bytes) -> IdempotencyRecord:
        with self._db.write() as conn:
            now = self._clock()
            done = _completed(_owned(self._load(conn, key), key, token, now), response, now)
            self._save(conn, done)
            return done

    def release_sync(self, key: str, token: str) -> None:
        with self._db.write() as conn:
            _owned(self._load(conn, key), key, token, self._clock())
            conn.execute("DELETE FROM plumego_idempotency WHERE key = ?", (key,))

    def get_sync(self, key: str) -> IdempotencyRecord | None:
        validate_key(key)
        with self._db.read() as conn:
            record = self._load(conn, key)
        if record is None or record.expires_at <= self._clock():
            return None
        return record

    def delete_sync(self, key: str) -> bool:
        with self._db.write() as conn:
            return conn.execute("DELETE FROM plumego_idempotency WHERE key = ?", (key,)).rowcount > 0

    def purge_expired_sync(self) -> int:
        with self._db.write() as conn:
            return conn.execute("DELETE FROM plumego_idempotency WHERE expires_at <= ?", (self._clock(),)).rowcount

    def close_sync(self) -> None:
        self._db.close()

    @staticmethod
    def _load(conn: sqlite3.Connection, key: str) -> IdempotencyRecord | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM plumego_idempotency WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return IdempotencyRecord(
            key=row[0],
            fingerprint=row[1],
            status=IdempotencyStatus(row[2]),
            response=bytes(row[3]) if row[3] is not None else None,
            created_at=row[4],
            updated_at=row[5],
            expires_at=row[6],
            lock_token=row[7],
            lock_expires_at=row[8],
        )

    @staticmethod
    def _save(conn: sqlite3.Connection, record: IdempotencyRecord) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO plumego_idempotency ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.key,
                record.fingerprint,
                record.status.value,
                record.response,
                record.created_at,
                record.updated_at,
                record.expires_at,
                record.lock_token,
                record.lock_expires_at,
            ),
        )
