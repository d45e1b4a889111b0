"""Tenant configs in Go Plumego's ``tenants`` table on PostgreSQL (psycopg 3, async pool), for many instances.

Owns the PostgreSQL :class:`ConfigManager`. A server that is down or restarting raises
:class:`StateUnavailableError` (the tenant steps answer 503, never "allowed"). Install with
``pip install 'plumego[postgres]'``. Imports the standard library, psycopg and psycopg_pool.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import AsyncConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the PostgreSQL tenant config manager needs psycopg 3: pip install 'plumego[postgres]'") from exc

from ._config import COLUMNS, config_from_row, config_to_row
from ._core import StateUnavailableError, TenantConfig, TenantNotFoundError, is_valid_tenant_id, validate_tenant_id

__all__ = ["PostgresConfigManager"]

T = TypeVar("T")


def _split(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == "schema"), "public")
    if not is_valid_tenant_id(schema) or not schema.replace("_", "").isalnum() or schema[0].isdigit():
        raise ValueError("schema must be a plain SQL identifier")
    rest = [(k, v) for k, v in params if k != "schema"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment)), schema


class PostgresConfigManager:
    """Open with ``await PostgresConfigManager.open("postgresql://host/db?schema=app")``."""

    def __init__(self, pool: AsyncConnectionPool[Any], schema: str, clock: Callable[[], float]) -> None:
        self._pool = pool
        self._t = f"{schema}.tenants"
        self._clock = clock

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 10, timeout: float = 5.0,
                   clock: Callable[[], float] = time.time) -> PostgresConfigManager:
        conninfo, schema = _split(url)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_connections, open=False, timeout=timeout,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))})
        await pool.open(wait=True, timeout=timeout)
        self = cls(pool, schema, clock)
        try:
            async with pool.connection() as conn:
                for statement in (
                    f"CREATE SCHEMA IF NOT EXISTS {schema}",
                    f"CREATE TABLE IF NOT EXISTS {self._t} (id TEXT PRIMARY KEY,"
                    " quota_limits TEXT NOT NULL DEFAULT '[]', allowed_models TEXT NOT NULL DEFAULT '[]',"
                    " allowed_tools TEXT NOT NULL DEFAULT '[]', allowed_methods TEXT NOT NULL DEFAULT '[]',"
                    " allowed_paths TEXT NOT NULL DEFAULT '[]', rate_limit TEXT NOT NULL DEFAULT '{}',"
                    " metadata TEXT NOT NULL DEFAULT '{}', created_at DOUBLE PRECISION NOT NULL,"
                    " updated_at DOUBLE PRECISION NOT NULL)",
                ):
                    try:
                        await conn.execute(statement)
                    except (pg_errors.UniqueViolation, pg_errors.DuplicateObject):
                        pass    # another process created it at the same moment
        except BaseException:
            await pool.close()
            raise
        return self

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, OSError) as exc:
            raise StateUnavailableError(f"postgres config store: {exc}") from exc

    async def get(self, tenant_id: str) -> TenantConfig:
        async def op() -> Any:
            async with self._pool.connection() as conn:
                cur = await conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {self._t} WHERE id = %s", (tenant_id,))
                return await cur.fetchone()
        row = await self._call(op)
        if row is None:
            raise TenantNotFoundError(tenant_id)
        return config_from_row(tuple(row))

    async def set(self, config: TenantConfig) -> TenantConfig:
        validate_tenant_id(config.tenant_id)
        now = self._clock()
        stored = replace(config, created_at=now, updated_at=now)

        async def op() -> Any:
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    f"INSERT INTO {self._t} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
                    " ON CONFLICT (id) DO UPDATE SET "
                    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:] if c != "created_at")
                    + " RETURNING created_at", config_to_row(stored))
                return await cur.fetchone()
        row = await self._call(op)
        return replace(stored, created_at=float(row[0]))

    async def delete(self, tenant_id: str) -> bool:
        async def op() -> bool:
            async with self._pool.connection() as conn:
                cur = await conn.execute(f"DELETE FROM {self._t} WHERE id = %s", (tenant_id,))
                return bool(cur.rowcount > 0)
        return await self._call(op)

    async def list(self) -> list[TenantConfig]:
        async def op() -> list[Any]:
            async with self._pool.connection() as conn:
                cur = await conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {self._t} ORDER BY id")
                return list(await cur.fetchall())
        return [config_from_row(tuple(r)) for r in await self._call(op)]

    async def close(self) -> None:
        await self._pool.close()
