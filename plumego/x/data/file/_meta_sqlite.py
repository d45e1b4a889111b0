"""File metadata on SQLite: the default, durable (WAL, ``synchronous=FULL``) and shareable by the workers of one host.

Owns :class:`SQLiteMetadataStore`. A partial unique index on live ``(tenant_id, sha256)`` makes per-tenant dedupe
hold even when two workers upload the same bytes at once: the second ``save`` gets :class:`DuplicateFileError`.
Go keeps file metadata on PostgreSQL only. Imports the standard library and plumego.store.
"""

from __future__ import annotations

import builtins
import asyncio
import sqlite3
import time
from os import PathLike
from typing import Any

from plumego.store import SQLiteDatabase

from ._meta_sql import COLUMNS, check_identifier, list_statements, record_from_row, record_params
from ._types import DuplicateFileError, FilePage, FileQuery, FileRecord, validate_tenant_id

__all__ = ["SQLiteMetadataStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {t} (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_access_at REAL,
    deleted_at REAL,
    width INTEGER,
    height INTEGER,
    thumbnail_path TEXT,
    storage TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{{}}'
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS {t}_live_hash ON {t} (tenant_id, sha256) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS {t}_tenant_created ON {t} (tenant_id, created_at)
"""


class SQLiteMetadataStore:
    """A :class:`MetadataStore` in one SQLite file (table ``files`` by default)."""

    def __init__(self, path: str | PathLike[str], *, table: str = "files", busy_timeout: float = 30.0) -> None:
        self._t = check_identifier(table)
        self._db = SQLiteDatabase(path, busy_timeout=busy_timeout)
        self._db.apply_schema(_SCHEMA.format(t=self._t))
        self._select = f"SELECT {', '.join(COLUMNS)} FROM {self._t}"

    def _one(self, sql: str, params: tuple[Any, ...]) -> FileRecord | None:
        with self._db.read() as conn:
            row = conn.execute(sql, params).fetchone()
        return None if row is None else record_from_row(row)

    def _save(self, record: FileRecord) -> None:
        validate_tenant_id(record.tenant_id)
        marks = ", ".join("?" for _ in COLUMNS)
        try:
            with self._db.write() as conn:
                conn.execute(f"INSERT INTO {self._t} ({', '.join(COLUMNS)}) VALUES ({marks})", record_params(record))
        except sqlite3.IntegrityError as exc:
            raise DuplicateFileError(f"file {record.id} or its content already exists for this tenant") from exc

    async def save(self, record: FileRecord) -> None:
        await asyncio.to_thread(self._save, record)

    async def get(self, tenant_id: str, file_id: str, *, include_deleted: bool = False) -> FileRecord | None:
        live = "" if include_deleted else " AND deleted_at IS NULL"
        return await asyncio.to_thread(
            self._one, f"{self._select} WHERE tenant_id = ? AND id = ?{live}", (tenant_id, file_id))

    async def get_by_hash(self, tenant_id: str, sha256: str) -> FileRecord | None:
        return await asyncio.to_thread(
            self._one, f"{self._select} WHERE tenant_id = ? AND sha256 = ? AND deleted_at IS NULL",
            (tenant_id, sha256))

    async def get_by_path(self, path: str) -> FileRecord | None:
        return await asyncio.to_thread(self._one, f"{self._select} WHERE path = ?", (path,))

    def _list(self, query: FileQuery) -> FilePage:
        count_sql, page_sql, params = list_statements(self._t, query, "?")
        with self._db.read() as conn:
            total = int(conn.execute(count_sql, params).fetchone()[0])
            rows = conn.execute(page_sql, [*params, query.page_size, (query.page - 1) * query.page_size]).fetchall()
        return FilePage([record_from_row(r) for r in rows], total, query.page, query.page_size)

    async def list(self, query: FileQuery) -> FilePage:
        return await asyncio.to_thread(self._list, query)

    def _list_all(self, limit: int, offset: int, include_deleted: bool) -> builtins.list[FileRecord]:
        where = "" if include_deleted else " WHERE deleted_at IS NULL"
        with self._db.read() as conn:
            rows = conn.execute(f"{self._select}{where} ORDER BY created_at, id LIMIT ? OFFSET ?",
                                (limit, offset)).fetchall()
        return [record_from_row(r) for r in rows]

    async def list_all(
        self, *, limit: int = 100, offset: int = 0, include_deleted: bool = False
    ) -> builtins.list[FileRecord]:
        return await asyncio.to_thread(self._list_all, limit, offset, include_deleted)

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._db.write() as conn:
            return int(conn.execute(sql, params).rowcount)

    async def delete(self, tenant_id: str, file_id: str, *, at: float | None = None) -> bool:
        now = time.time() if at is None else at
        return await asyncio.to_thread(
            self._write, f"UPDATE {self._t} SET deleted_at = ?, updated_at = ? "
                         "WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL",
            (now, now, tenant_id, file_id)) > 0

    async def purge(self, tenant_id: str, file_id: str) -> bool:
        return await asyncio.to_thread(
            self._write, f"DELETE FROM {self._t} WHERE tenant_id = ? AND id = ?", (tenant_id, file_id)) > 0

    async def touch(self, tenant_id: str, file_id: str, at: float) -> None:
        await asyncio.to_thread(
            self._write, f"UPDATE {self._t} SET last_access_at = ? WHERE tenant_id = ? AND id = ?",
            (at, tenant_id, file_id))

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)
