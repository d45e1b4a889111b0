"""Tenant configs in Go Plumego's ``tenants`` table on SQLite: the default, embedded config manager.

Owns the SQLite :class:`ConfigManager` (upsert on ``id``, JSON text columns). Put a
:class:`CachedConfigManager` in front of it on the request path. Imports the standard library and plumego.store.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from os import PathLike
from typing import TypeVar

from plumego.store import SQLiteDatabase, StoreClosedError

from ._config import COLUMNS, config_from_row, config_to_row
from ._core import StateUnavailableError, TenantConfig, TenantNotFoundError, validate_tenant_id

__all__ = ["SQLiteConfigManager"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY, quota_limits TEXT NOT NULL DEFAULT '[]', allowed_models TEXT NOT NULL DEFAULT '[]',
    allowed_tools TEXT NOT NULL DEFAULT '[]', allowed_methods TEXT NOT NULL DEFAULT '[]',
    allowed_paths TEXT NOT NULL DEFAULT '[]', rate_limit TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL, updated_at REAL NOT NULL)"""

T = TypeVar("T")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM tenants"


class SQLiteConfigManager:
    def __init__(self, path: str | PathLike[str], *, clock: Callable[[], float] = time.time) -> None:
        self._db = SQLiteDatabase(path)
        self._db.apply_schema(_SCHEMA)
        self._clock = clock

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def work() -> T:
            with self._db.write() as conn:
                return fn(conn)
        try:
            return await asyncio.to_thread(work)
        except (sqlite3.OperationalError, StoreClosedError) as exc:
            raise StateUnavailableError(f"sqlite config store: {exc}") from exc

    async def get(self, tenant_id: str) -> TenantConfig:
        row = await self._run(lambda c: c.execute(f"{_SELECT} WHERE id = ?", (tenant_id,)).fetchone())
        if row is None:
            raise TenantNotFoundError(tenant_id)
        return config_from_row(tuple(row))

    async def set(self, config: TenantConfig) -> TenantConfig:
        validate_tenant_id(config.tenant_id)
        now = self._clock()

        def op(conn: sqlite3.Connection) -> TenantConfig:
            old = conn.execute("SELECT created_at FROM tenants WHERE id = ?", (config.tenant_id,)).fetchone()
            stored = replace(config, created_at=float(old[0]) if old else now, updated_at=now)
            conn.execute(f"INSERT INTO tenants ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
                         " ON CONFLICT (id) DO UPDATE SET "
                         + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:] if c != "created_at"),
                         config_to_row(stored))
            return stored
        return await self._run(op)

    async def delete(self, tenant_id: str) -> bool:
        return await self._run(lambda c: c.execute("DELETE FROM tenants WHERE id = ?", (tenant_id,)).rowcount > 0)

    async def list(self) -> list[TenantConfig]:
        rows = await self._run(lambda c: c.execute(f"{_SELECT} ORDER BY id").fetchall())
        return [config_from_row(tuple(r)) for r in rows]

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)
