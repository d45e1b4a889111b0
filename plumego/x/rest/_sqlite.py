"""The SQLite repository (the embedded default): one WAL-mode file, statements from SQLBuilder, run off the loop.

Owns :class:`SQLiteRepository`. Each call runs in a worker thread (``asyncio.to_thread``) on the store's
SQLiteDatabase (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` writes), so several processes may share one file.
Imports the standard library and plumego.store.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping
from os import PathLike
from typing import Any

from plumego.store import SQLiteDatabase

from ._query import Query
from ._repository import DuplicateError, Record, RepositoryCapabilities, RepositoryError, TableSpec, checked_values
from ._sql import SQLITE, SQLBuilder, utc_now

__all__ = ["SQLiteRepository"]


class SQLiteRepository:
    """A :class:`Repository` on a SQLite file (``":memory:"`` for tests). The table is created if missing."""

    capabilities = RepositoryCapabilities(unicode_case_insensitive_search=False, shared=True)

    def __init__(self, path: str | PathLike[str], spec: TableSpec, *, clock: Callable[[], str] = utc_now) -> None:
        self.spec = spec
        self._sql = SQLBuilder(spec, SQLITE)
        self._clock = clock
        self._db = SQLiteDatabase(path)
        try:
            with self._db.write() as conn:
                for statement in self._sql.create_table():
                    conn.execute(statement)
        except BaseException:
            self._db.close()
            raise

    async def _read(self, sql: str, params: list[Any]) -> list[Any]:
        def run() -> list[Any]:
            with self._db.read() as conn:
                return conn.execute(sql, params).fetchall()

        return await self._guard(run)

    async def _write(self, sql: str, params: list[Any]) -> list[Any]:
        def run() -> list[Any]:
            with self._db.write() as conn:
                return conn.execute(sql, params).fetchall()

        return await self._guard(run)

    async def _guard(self, run: Callable[[], list[Any]]) -> list[Any]:
        try:
            return await asyncio.to_thread(run)
        except sqlite3.IntegrityError as exc:
            text = str(exc)
            if text.startswith("UNIQUE constraint failed:"):
                column = text.rsplit(".", 1)[-1].strip()
                raise DuplicateError(column) from None
            raise RepositoryError(f"sqlite: {text}") from exc
        except sqlite3.Error as exc:
            raise RepositoryError(f"sqlite: {exc}") from exc

    async def find_all(self, query: Query) -> list[Record]:
        sql, params = self._sql.select(query)
        return [self._sql.record(row) for row in await self._read(sql, params)]

    async def count(self, query: Query) -> int:
        sql, params = self._sql.count(query)
        rows = await self._read(sql, params)
        return int(rows[0][0])

    async def find_by_id(self, record_id: int) -> Record | None:
        sql, params = self._sql.get(record_id)
        rows = await self._read(sql, params)
        return self._sql.record(rows[0]) if rows else None

    async def exists(self, record_id: int) -> bool:
        return await self.find_by_id(record_id) is not None

    async def create(self, values: Mapping[str, Any]) -> Record:
        sql, params = self._sql.insert(checked_values(self.spec, values, full=True), self._clock())
        rows = await self._write(sql, params)
        return self._sql.record(rows[0])

    async def update(self, record_id: int, values: Mapping[str, Any]) -> Record | None:
        sql, params = self._sql.update(record_id, checked_values(self.spec, values, full=False), self._clock())
        rows = await self._write(sql, params)
        return self._sql.record(rows[0]) if rows else None

    async def delete(self, record_id: int) -> bool:
        sql, params = self._sql.delete(record_id, self._clock())
        return bool(await self._write(sql, params))

    async def close(self) -> None:
        self._db.close()
