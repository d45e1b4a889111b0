"""The SQL both metadata engines share: the ``files`` table's columns, row mapping and the list query builder.

Owns statement text with a placeholder token, so SQLite (``?``) and PostgreSQL (``%s``) run the same queries and
make the same decisions. Imports the standard library and this package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ._types import FileQuery, FileRecord

__all__ = ["COLUMNS", "check_identifier", "list_statements", "record_from_row", "record_params"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

COLUMNS = ("id", "tenant_id", "name", "path", "size", "mime_type", "sha256", "uploaded_by", "created_at",
           "updated_at", "last_access_at", "deleted_at", "width", "height", "thumbnail_path", "storage", "metadata")


def check_identifier(name: str, what: str = "table") -> str:
    """A table or schema name is spliced into SQL, so it must be a plain identifier."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} name {name!r} must be a plain SQL identifier (letters, digits, _)")
    return name


def record_params(record: FileRecord) -> tuple[Any, ...]:
    return (record.id, record.tenant_id, record.name, record.path, record.size, record.mime_type, record.sha256,
            record.uploaded_by, record.created_at, record.updated_at, record.last_access_at, record.deleted_at,
            record.width, record.height, record.thumbnail_path, record.storage,
            json.dumps(dict(record.metadata), sort_keys=True))


def record_from_row(row: Sequence[Any]) -> FileRecord:
    (id_, tenant_id, name, path, size, mime_type, sha256, uploaded_by, created_at, updated_at, last_access_at,
     deleted_at, width, height, thumbnail_path, storage, metadata) = row
    return FileRecord(id=id_, tenant_id=tenant_id, name=name, path=path, size=int(size), mime_type=mime_type,
                      sha256=sha256, uploaded_by=uploaded_by, created_at=float(created_at),
                      updated_at=float(updated_at),
                      last_access_at=None if last_access_at is None else float(last_access_at),
                      deleted_at=None if deleted_at is None else float(deleted_at), width=width, height=height,
                      thumbnail_path=thumbnail_path, storage=storage, metadata=json.loads(metadata or "{}"))


def list_statements(table: str, query: FileQuery, ph: str) -> tuple[str, str, list[Any]]:
    """(count SQL, page SQL, params of the WHERE clause); the page SQL takes two more params: limit, offset.

    ``mime_type`` ending in ``/*`` matches the whole family (``image/*``); otherwise it is exact.
    """
    where = [f"tenant_id = {ph}", "deleted_at IS NULL"]
    params: list[Any] = [query.tenant_id]
    if query.mime_type:
        if query.mime_type.endswith("/*"):
            where.append(f"substr(mime_type, 1, {len(query.mime_type) - 1}) = {ph}")
            params.append(query.mime_type[:-1])
        else:
            where.append(f"mime_type = {ph}")
            params.append(query.mime_type)
    if query.uploaded_by:
        where.append(f"uploaded_by = {ph}")
        params.append(query.uploaded_by)
    if query.start_time is not None:
        where.append(f"created_at >= {ph}")
        params.append(query.start_time)
    if query.end_time is not None:
        where.append(f"created_at < {ph}")
        params.append(query.end_time)
    column, descending = query.order
    direction = "DESC" if descending else "ASC"
    clause = " AND ".join(where)
    count = f"SELECT COUNT(*) FROM {table} WHERE {clause}"
    page = (f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE {clause} "
            f"ORDER BY {column} {direction}, id {direction} LIMIT {ph} OFFSET {ph}")
    return count, page, params
