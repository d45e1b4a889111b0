"""The PostgreSQL repository: the same statements as SQLite (``%s`` placeholders), on a psycopg 3 async pool.

Owns :class:`PostgresRepository`, opened from ``postgresql://.../db?schema=S``; several app instances share one
table. Install with ``pip install 'plumego[postgres]'``; psycopg is imported when this module is. Imports the
standard library and psycopg/psycopg_pool.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the PostgreSQL repository needs psycopg 3: pip install 'plumego[postgres]'") from exc

from ._query import Query
from ._repository import (
    DuplicateError,
    Record,
    RepositoryCapabilities,
    RepositoryError,
    TableSpec,
    check_identifier,
    checked_values,
)
from ._sql import POSTGRES, SQLBuilder, utc_now

__all__ = ["PostgresRepository", "split_schema"]


def split_schema(url: str) -> tuple[str, str]:
    """``postgresql://...?schema=S`` -> (conninfo without ``schema``, S or ``public``)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == "schema"), "public")
    rest = [(k, v) for k, v in params if k != "schema"]
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return conninfo, check_identifier(schema, "schema")


class PostgresRepository:
    """A :class:`Repository` on a PostgreSQL table. Create it with ``await PostgresRepository.open(url, spec)``."""

    capabilities = RepositoryCapabilities(unicode_case_insensitive_search=True, shared=True)

    def __init__(self, pool: AsyncConnectionPool[Any], spec: TableSpec, schema: str,
                 clock: Callable[[], str]) -> None:
        self.spec = spec
        self._pool = pool
        self._sql = SQLBuilder(spec, POSTGRES, schema)
        self._clock = clock
        self._constraints = {f"{spec.table}_{c.name}_key": c.name for c in spec.columns if c.unique}

    @classmethod
    async def open(cls, url: str, spec: TableSpec, *, max_connections: int = 10,
                   clock: Callable[[], str] = utc_now) -> PostgresRepository:
        conninfo, schema = split_schema(url)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo, min_size=1, max_size=max_connections,
                                                             open=False, kwargs={"autocommit": True})
        await pool.open(wait=True)
        self = cls(pool, spec, schema, clock)
        try:
            async with pool.connection() as conn:
                for statement in [f'CREATE SCHEMA IF NOT EXISTS "{schema}"', *self._sql.create_table()]:
                    try:
                        await conn.execute(statement)
                    except (pg_errors.UniqueViolation, pg_errors.DuplicateObject, pg_errors.DuplicateTable):
                        pass  # another process created it at the same moment
        except BaseException:
            await pool.close()
            raise
        return self

    async def _run(self, sql: str, params: list[Any]) -> list[Any]:
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return list(await cursor.fetchall())
        except pg_errors.UniqueViolation as exc:
            name = exc.diag.constraint_name or ""
            raise DuplicateError(self._constraints.get(name, name)) from None
        except psycopg.Error as exc:
            raise RepositoryError(f"postgres: {type(exc).__name__}") from exc

    async def find_all(self, query: Query) -> list[Record]:
        sql, params = self._sql.select(query)
        return [self._sql.record(row) for row in await self._run(sql, params)]

    async def count(self, query: Query) -> int:
        sql, params = self._sql.count(query)
        rows = await self._run(sql, params)
        return int(rows[0][0])

    async def find_by_id(self, record_id: int) -> Record | None:
        sql, params = self._sql.get(record_id)
        rows = await self._run(sql, params)
        return self._sql.record(rows[0]) if rows else None

    async def exists(self, record_id: int) -> bool:
        return await self.find_by_id(record_id) is not None

    async def create(self, values: Mapping[str, Any]) -> Record:
        sql, params = self._sql.insert(checked_values(self.spec, values, full=True), self._clock())
        return self._sql.record((await self._run(sql, params))[0])

    async def update(self, record_id: int, values: Mapping[str, Any]) -> Record | None:
        sql, params = self._sql.update(record_id, checked_values(self.spec, values, full=False), self._clock())
        rows = await self._run(sql, params)
        return self._sql.record(rows[0]) if rows else None

    async def delete(self, record_id: int) -> bool:
        sql, params = self._sql.delete(record_id, self._clock())
        return bool(await self._run(sql, params))

    async def close(self) -> None:
        await self._pool.close()
