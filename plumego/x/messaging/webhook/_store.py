"""Webhook targets and the delivery log, persisted in SQLite (the embedded default).

Owns the records: a :class:`Target` (where to deliver which events, with its secret and retry policy) and a
:class:`Delivery` (one event to one target: status, attempts, last response). Secrets are stored as given and
only ever shown masked (:meth:`Target.masked`). Go keeps both in memory only; here they survive restarts and are
shared by the worker processes of one machine. Imports the standard library, plumego.store and this package.
"""

from __future__ import annotations

import asyncio
import enum
import fnmatch
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from os import PathLike
from typing import Any

from plumego.store import SQLiteDatabase

__all__ = ["Delivery", "DeliveryStatus", "Target", "WebhookStore"]


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    SUCCESS = "success"
    FAILED = "failed"       # refused for good (a 4xx other than 408/429, a blocked address, a deleted target)
    DEAD = "dead"           # retryable failures until max_retries ran out


@dataclass(frozen=True)
class Target:
    """Go's ``Target``; times in seconds. ``events`` are globs (``order.*``); empty means every event."""

    id: str
    url: str
    secret: str
    name: str = ""
    events: tuple[str, ...] = ()
    enabled: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_on_429: bool = True

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a webhook target needs a secret")
        if self.timeout <= 0 or self.max_retries < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("timeout must be > 0; retries and backoff >= 0")
        for name in self.headers:
            if name.lower().startswith("x-webhook-") or name.lower() in ("host", "content-length"):
                raise ValueError(f"header {name!r} is set by the delivery itself")

    def wants(self, event: str) -> bool:
        return self.enabled and (not self.events or any(fnmatch.fnmatchcase(event, p) for p in self.events))

    def masked(self) -> dict[str, Any]:
        """The target as the management API shows it: the secret reduced to its last four characters."""
        d = asdict(self)
        d["events"] = list(self.events)
        d["headers"] = dict(self.headers)
        d["secret"] = "****" + self.secret[-4:] if len(self.secret) > 8 else "****"
        return d


@dataclass(frozen=True)
class Delivery:
    id: str
    target_id: str
    event_id: str
    event_type: str
    body: bytes
    status: DeliveryStatus
    attempts: int
    last_status: int | None
    last_error: str
    created_at: float
    updated_at: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_targets (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    target_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_target ON webhook_deliveries (target_id, seq);
CREATE INDEX IF NOT EXISTS webhook_deliveries_status ON webhook_deliveries (status, seq)
"""
_DCOLS = "id, target_id, event_id, event_type, body, status, attempts, last_status, last_error, created_at, updated_at"


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(row[0], row[1], row[2], row[3], bytes(row[4]), DeliveryStatus(row[5]), *row[6:])


class WebhookStore:
    def __init__(self, path: str | PathLike[str]) -> None:
        self._db = SQLiteDatabase(path)
        self._db.apply_schema(_SCHEMA)

    # -- targets --------------------------------------------------------------------------------------------------

    async def put_target(self, target: Target) -> None:
        doc = json.dumps({**asdict(target), "events": list(target.events), "headers": dict(target.headers)})

        def run() -> None:
            with self._db.write() as conn:
                conn.execute("INSERT INTO webhook_targets (id, doc) VALUES (?, ?)"
                             " ON CONFLICT (id) DO UPDATE SET doc = excluded.doc", (target.id, doc))
        await asyncio.to_thread(run)

    async def get_target(self, target_id: str) -> Target | None:
        def run() -> Target | None:
            with self._db.read() as conn:
                row = conn.execute("SELECT doc FROM webhook_targets WHERE id = ?", (target_id,)).fetchone()
            return None if row is None else _target(row[0])
        return await asyncio.to_thread(run)

    async def targets(self) -> list[Target]:
        def run() -> list[Target]:
            with self._db.read() as conn:
                return [_target(r[0]) for r in conn.execute("SELECT doc FROM webhook_targets ORDER BY id")]
        return await asyncio.to_thread(run)

    async def set_enabled(self, target_id: str, enabled: bool) -> Target | None:
        target = await self.get_target(target_id)
        if target is None:
            return None
        target = replace(target, enabled=enabled)
        await self.put_target(target)
        return target

    # -- deliveries -----------------------------------------------------------------------------------------------

    async def new_deliveries(self, targets: Sequence[Target], event_id: str, event_type: str,
                             body: bytes) -> list[Delivery]:
        now = time.time()
        out = [Delivery(uuid.uuid4().hex, t.id, event_id, event_type, body, DeliveryStatus.PENDING, 0, None, "", now,
                        now) for t in targets]

        def run() -> None:
            with self._db.write() as conn:
                conn.executemany(f"INSERT INTO webhook_deliveries ({_DCOLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [(d.id, d.target_id, d.event_id, d.event_type, d.body, d.status.value, 0, None, "",
                                   now, now) for d in out])
        await asyncio.to_thread(run)
        return out

    async def record_attempt(self, delivery_id: str, status: DeliveryStatus, attempts: int, last_status: int | None,
                             error: str) -> None:
        def run() -> None:
            with self._db.write() as conn:
                conn.execute("UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?,"
                             " updated_at = ? WHERE id = ?",
                             (status.value, attempts, last_status, error[:500], time.time(), delivery_id))
        await asyncio.to_thread(run)

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        def run() -> Delivery | None:
            with self._db.read() as conn:
                row = conn.execute(f"SELECT {_DCOLS} FROM webhook_deliveries WHERE id = ?", (delivery_id,)).fetchone()
            return None if row is None else _delivery(row)
        return await asyncio.to_thread(run)

    async def deliveries(self, *, target_id: str | None = None, status: DeliveryStatus | None = None,
                         event: str | None = None, limit: int = 100) -> list[Delivery]:
        where, args = ["1 = 1"], []
        for column, value in (("target_id", target_id), ("status", status), ("event_type", event)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(str(value))

        def run() -> list[Delivery]:
            with self._db.read() as conn:
                rows = conn.execute(f"SELECT {_DCOLS} FROM webhook_deliveries WHERE {' AND '.join(where)}"
                                    " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
            return [_delivery(r) for r in rows]
        return await asyncio.to_thread(run)

    async def page(self, *, target_id: str | None = None, status: DeliveryStatus | None = None,
                   event: str | None = None, before: int | None = None,
                   limit: int = 50) -> tuple[list[Delivery], int | None]:
        """Newest first; ``before`` is the cursor a previous page returned. Returns (items, next cursor or None)."""
        where, args = ["1 = 1"], []
        for column, value in (("target_id", target_id), ("status", status), ("event_type", event)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(str(value))
        if before is not None:
            where.append("seq < ?")
            args.append(str(before))

        def run() -> tuple[list[Delivery], int | None]:
            with self._db.read() as conn:
                rows = conn.execute(f"SELECT {_DCOLS}, seq FROM webhook_deliveries WHERE {' AND '.join(where)}"
                                    " ORDER BY seq DESC LIMIT ?", (*args, limit + 1)).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            return [_delivery(r[:-1]) for r in rows], (int(rows[-1][-1]) if more and rows else None)
        return await asyncio.to_thread(run)

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)


def _target(doc: str) -> Target:
    d = json.loads(doc)
    d["events"] = tuple(d.get("events", ()))
    return Target(**d)
