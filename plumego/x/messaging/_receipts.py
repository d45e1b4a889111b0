"""Receipts: what happened to each message the notification service accepted (Go's ``Receipt``), in SQLite.

Owns the receipt record and its store. Go keeps receipts in memory (``MemReceiptStore``); here they survive
restarts and are shared by the workers of one machine. Imports the standard library and plumego.store.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from typing import Any

from plumego.store import SQLiteDatabase

__all__ = ["Receipt", "ReceiptStatus", "SQLiteReceiptStore"]


class ReceiptStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    channel: str
    to: str
    status: ReceiptStatus
    priority: int
    tenant_id: str
    task_id: str
    provider: str
    provider_id: str
    attempts: int
    error: str
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


_COLS = ("id, channel, recipient, status, priority, tenant_id, task_id, provider, provider_id, attempts, error,"
         " created_at, updated_at")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messaging_receipts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, recipient TEXT NOT NULL,
    status TEXT NOT NULL, priority INTEGER NOT NULL, tenant_id TEXT NOT NULL, task_id TEXT NOT NULL,
    provider TEXT NOT NULL DEFAULT '', provider_id TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messaging_receipts_status ON messaging_receipts (status, seq)
"""


def _receipt(row: Sequence[Any]) -> Receipt:
    return Receipt(row[0], row[1], row[2], ReceiptStatus(row[3]), *row[4:])


class SQLiteReceiptStore:
    def __init__(self, path: str | PathLike[str]) -> None:
        self._db = SQLiteDatabase(path)
        self._db.apply_schema(_SCHEMA)

    async def add(self, receipt: Receipt) -> None:
        def run() -> None:
            with self._db.write() as conn:
                conn.execute(f"INSERT INTO messaging_receipts ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (receipt.id, receipt.channel, receipt.to, receipt.status.value, receipt.priority,
                              receipt.tenant_id, receipt.task_id, receipt.provider, receipt.provider_id,
                              receipt.attempts, receipt.error, receipt.created_at, receipt.updated_at))
        await asyncio.to_thread(run)

    async def update(self, receipt_id: str, status: ReceiptStatus, *, attempts: int, provider: str = "",
                     provider_id: str = "", error: str = "") -> None:
        def run() -> None:
            with self._db.write() as conn:
                conn.execute("UPDATE messaging_receipts SET status = ?, attempts = ?, provider = ?, provider_id = ?,"
                             " error = ?, updated_at = ? WHERE id = ?",
                             (status.value, attempts, provider, provider_id, error[:500], time.time(), receipt_id))
        await asyncio.to_thread(run)

    async def get(self, receipt_id: str) -> Receipt | None:
        def run() -> Receipt | None:
            with self._db.read() as conn:
                row = conn.execute(f"SELECT {_COLS} FROM messaging_receipts WHERE id = ?", (receipt_id,)).fetchone()
            return None if row is None else _receipt(row)
        return await asyncio.to_thread(run)

    async def list(self, *, status: ReceiptStatus | None = None, limit: int = 100) -> list[Receipt]:
        def run() -> list[Receipt]:
            with self._db.read() as conn:
                if status is None:
                    rows = conn.execute(f"SELECT {_COLS} FROM messaging_receipts ORDER BY seq DESC LIMIT ?",
                                        (limit,)).fetchall()
                else:
                    rows = conn.execute(f"SELECT {_COLS} FROM messaging_receipts WHERE status = ? ORDER BY seq DESC"
                                        " LIMIT ?", (status.value, limit)).fetchall()
            return [_receipt(r) for r in rows]
        return await asyncio.to_thread(run)

    async def counts(self) -> dict[str, int]:
        def run() -> dict[str, int]:
            with self._db.read() as conn:
                found = dict(conn.execute("SELECT status, COUNT(*) FROM messaging_receipts GROUP BY status"))
            return {s.value: int(found.get(s.value, 0)) for s in ReceiptStatus}
        return await asyncio.to_thread(run)

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)
