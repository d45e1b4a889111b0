"""File metadata on PostgreSQL (Go's ``DBMetadataManager``), for several machines sharing one catalogue.

Owns :class:`PostgresMetadataStore`: psycopg 3 async with a connection pool, one schema-qualified table created on
open, the same statements and the same partial unique index on live ``(tenant_id, sha256)`` as SQLite. Install
with ``pip install 'plumego[data]'``; psycopg is imported when this module is. Imports the standard library,
psycopg and psycopg_pool.
"""

from __future__ import annotations

import builtins
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import AsyncConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("PostgreSQL file metadata needs psycopg 3: pip install 'plumego[data]'") from exc

from ._meta_sql import COLUMNS, check_identifier, list_statements, record_from_row, record_params
from ._types import DuplicateFileError, FileBackendError, FilePage, FileQuery, FileRecord, validate_tenant_id

__all__ = ["PostgresMetadataStore"]

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {q} (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    mime_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    last_access_at DOUBLE PRECISION,
    deleted_at DOUBLE PRECISION,
    width INTEGER,
    height INTEGER,
    thumbnail_path TEXT,
    storage TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{{}}'
);
CREATE UNIQUE INDEX IF NOT EXISTS {t}_live_hash ON {q} (tenant_id, sha256) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS {t}_tenant_created ON {q} (tenant_id, created_at)
"""


_OURS = ("schema", "table", "pool_timeout")


def split_url(url: str) -> tuple[str, str, str, float]:
    """``postgresql://...?schema=S&table=T&pool_timeout=SECONDS`` -> (conninfo without our parameters, schema,
    table, pool timeout)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in params if k in _OURS}
    rest = [(k, v) for k, v in params if k not in _OURS]
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    try:
        timeout = float(ours.get("pool_timeout", "5"))
    except ValueError:
        raise ValueError("pool_timeout must be a number of seconds") from None
    return (conninfo, check_identifier(ours.get("schema", "public"), "schema"),
            check_identifier(ours.get("table", "files")), timeout)


class PostgresMetadataStore:
    """A :class:`MetadataStore` on PostgreSQL. Create it with ``await PostgresMetadataStore.open(url)``."""

    def __init__(self, pool: AsyncConnectionPool[Any], schema: str, table: str) -> None:
        self._pool = pool
        self._q = f"{schema}.{table}"
        self._select = f"SELECT {', '.join(COLUMNS)} FROM {self._q}"

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 10) -> PostgresMetadataStore:
        conninfo, schema, table, timeout = split_url(url)
        # check=: a connection broken by a restart is replaced at checkout, not handed to a request;
        # timeout=: with the server away, a request fails after this long instead of queueing for 30 s
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo, min_size=1, max_size=max_connections,
                                                             open=False, timeout=timeout,
                                                             check=AsyncConnectionPool.check_connection,
                                                             kwargs={"autocommit": True})
        try:
            await pool.open(wait=True, timeout=10)
        except Exception as exc:
            await pool.close()
            raise FileBackendError(f"PostgreSQL unreachable: {exc}") from exc
        self = cls(pool, schema, table)
        try:
            async with pool.connection() as conn:
                for statement in _SCHEMA.format(s=schema, q=self._q, t=table).split(";"):
                    try:
                        await conn.execute(statement)
                    except (pg_errors.UniqueViolation, pg_errors.DuplicateObject, pg_errors.DuplicateTable):
                        pass   # two processes creating the same table at once: theirs won
        except BaseException:
            await pool.close()
            raise
        return self

    async def _fetch(self, sql: str, params: Any) -> builtins.list[tuple[Any, ...]]:
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                rows: list[tuple[Any, ...]] = await cursor.fetchall()
                return rows
        except (psycopg.Error, PoolTimeout) as exc:
            raise FileBackendError(f"PostgreSQL: {exc}") from exc

    async def _exec(self, sql: str, params: Any) -> int:
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return int(cursor.rowcount)
        except pg_errors.UniqueViolation as exc:
            raise DuplicateFileError("file or its content already exists for this tenant") from exc
        except (psycopg.Error, PoolTimeout) as exc:
            raise FileBackendError(f"PostgreSQL: {exc}") from exc

    async def _one(self, sql: str, params: Any) -> FileRecord | None:
        rows = await self._fetch(sql, params)
        return record_from_row(rows[0]) if rows else None

    async def save(self, record: FileRecord) -> None:
        validate_tenant_id(record.tenant_id)
        marks = ", ".join("%s" for _ in COLUMNS)
        await self._exec(f"INSERT INTO {self._q} ({', '.join(COLUMNS)}) VALUES ({marks})", record_params(record))

    async def get(self, tenant_id: str, file_id: str, *, include_deleted: bool = False) -> FileRecord | None:
        live = "" if include_deleted else " AND deleted_at IS NULL"
        return await self._one(f"{self._select} WHERE tenant_id = %s AND id = %s{live}", (tenant_id, file_id))

    async def get_by_hash(self, tenant_id: str, sha256: str) -> FileRecord | None:
        return await self._one(f"{self._select} WHERE tenant_id = %s AND sha256 = %s AND deleted_at IS NULL",
                               (tenant_id, sha256))

    async def get_by_path(self, path: str) -> FileRecord | None:
        return await self._one(f"{self._select} WHERE path = %s", (path,))

    async def list(self, query: FileQuery) -> FilePage:
        count_sql, page_sql, params = list_statements(self._q, query, "%s")
        total = int((await self._fetch(count_sql, params))[0][0])
        rows = await self._fetch(page_sql, [*params, query.page_size, (query.page - 1) * query.page_size])
        return FilePage([record_from_row(r) for r in rows], total, query.page, query.page_size)

    async def list_all(
        self, *, limit: int = 100, offset: int = 0, include_deleted: bool = False
    ) -> builtins.list[FileRecord]:
        where = "" if include_deleted else " WHERE deleted_at IS NULL"
        rows = await self._fetch(f"{self._select}{where} ORDER BY created_at, id LIMIT %s OFFSET %s", (limit, offset))
        return [record_from_row(r) for r in rows]

    async def delete(self, tenant_id: str, file_id: str, *, at: float | None = None) -> bool:
        now = time.time() if at is None else at
        return await self._exec(f"UPDATE {self._q} SET deleted_at = %s, updated_at = %s "
                                "WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL",
                                (now, now, tenant_id, file_id)) > 0

    async def purge(self, tenant_id: str, file_id: str) -> bool:
        return await self._exec(f"DELETE FROM {self._q} WHERE tenant_id = %s AND id = %s", (tenant_id, file_id)) > 0

    async def touch(self, tenant_id: str, file_id: str, at: float) -> None:
        await self._exec(f"UPDATE {self._q} SET last_access_at = %s WHERE tenant_id = %s AND id = %s",
                         (at, tenant_id, file_id))

    async def close(self) -> None:
        await self._pool.close()
