"""Migration engines: SQLite (the stable store's WAL database) and PostgreSQL (psycopg 3).

Owns :class:`SQLiteMigrationEngine`, :class:`PostgresMigrationEngine` and :func:`open_migrator`. SQLite: each
migration runs inside ``BEGIN IMMEDIATE`` (the database's write lock) and re-checks its bookkeeping row there, so
concurrent runners apply it once; statements are split with ``sqlite3.complete_statement`` (never
``executescript``, which would commit half-way). PostgreSQL: a session advisory lock is held for the whole run,
``search_path`` is the chosen schema, and each migration is one transaction (PostgreSQL's DDL is transactional).
Imports the standard library, plumego.store and this package; psycopg when a PostgreSQL URL is opened.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import re
import sqlite3
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from plumego.store import SQLiteDatabase

from ._migrations import AppliedMigration, Migration, Migrator

__all__ = ["PostgresMigrationEngine", "SQLiteMigrationEngine", "open_migrator", "split_sql"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _ident(name: str, what: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} name {name!r} must be a plain SQL identifier (letters, digits, _)")
    return name


def split_sql(script: str) -> builtins.list[str]:
    """Complete SQLite statements of a script, in order (semicolons inside literals and triggers respected)."""
    statements: builtins.list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip().strip(";").strip():
                statements.append(buffer.strip())
            buffer = ""
    if any(line.strip() and not line.strip().startswith("--") for line in buffer.splitlines()):
        raise ValueError(f"incomplete SQL statement at the end of the script: {buffer.strip()[:80]!r}")
    return statements


class SQLiteMigrationEngine:
    def __init__(self, path: str, *, table: str = "schema_migrations", clock: Any = time.time) -> None:
        self._t = _ident(table, "table")
        self._db = SQLiteDatabase(path)
        self._clock = clock
        self._db.apply_schema(f"CREATE TABLE IF NOT EXISTS {self._t} (version INTEGER PRIMARY KEY, name TEXT NOT "
                              "NULL, checksum TEXT NOT NULL, applied_at REAL NOT NULL)")

    async def lock(self) -> None:
        return None           # each step takes the database's write lock and re-checks inside it

    async def unlock(self) -> None:
        return None

    def _applied(self) -> builtins.list[AppliedMigration]:
        with self._db.read() as conn:
            rows = conn.execute(f"SELECT version, name, checksum, applied_at FROM {self._t} ORDER BY version")
            return [AppliedMigration(int(v), n, c, float(a)) for v, n, c, a in rows.fetchall()]

    async def applied(self) -> builtins.list[AppliedMigration]:
        return await asyncio.to_thread(self._applied)

    def _run(self, migration: Migration, direction: str) -> bool:
        script = migration.up if direction == "up" else migration.down or ""
        statements = split_sql(script)
        with self._db.write() as conn:
            present = conn.execute(f"SELECT 1 FROM {self._t} WHERE version = ?", (migration.version,)).fetchone()
            if (direction == "up") == (present is not None):
                return False                      # another runner did it first
            for statement in statements:
                conn.execute(statement)
            if direction == "up":
                conn.execute(f"INSERT INTO {self._t} (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                             (migration.version, migration.name, migration.checksum, self._clock()))
            else:
                conn.execute(f"DELETE FROM {self._t} WHERE version = ?", (migration.version,))
        return True

    async def run(self, migration: Migration, direction: str) -> bool:
        return await asyncio.to_thread(self._run, migration, direction)

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)


class PostgresMigrationEngine:
    """One dedicated connection; open with ``await PostgresMigrationEngine.open(url)``
    (``postgresql://...?schema=S&table=T``)."""

    def __init__(self, conn: Any, schema: str, table: str, lock_key: int, clock: Any) -> None:
        self._conn = conn
        self._q = f"{schema}.{table}"
        self._lock_key = lock_key
        self._clock = clock

    @classmethod
    async def open(cls, url: str, *, clock: Any = time.time,
                   lock_timeout: float = 60.0) -> PostgresMigrationEngine:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("PostgreSQL migrations need psycopg 3: pip install 'plumego[data]'") from exc
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        ours = {k: v for k, v in params if k in ("schema", "table")}
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path,
                               urlencode([(k, v) for k, v in params if k not in ours]), parts.fragment))
        schema = _ident(ours.get("schema", "public"), "schema")
        table = _ident(ours.get("table", "schema_migrations"), "table")
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        try:
            await conn.execute(f"SET lock_timeout = '{int(lock_timeout * 1000)}ms'")
            try:
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            except psycopg.errors.UniqueViolation:
                pass                              # created by a concurrent runner
            await conn.execute(f"SET search_path TO {schema}")
            try:
                await conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{table} (version BIGINT PRIMARY KEY, "
                                   "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)")
            except psycopg.errors.UniqueViolation:
                pass
        except BaseException:
            await conn.close()
            raise
        digest = hashlib.sha256(f"plumego.migrate:{schema}.{table}".encode()).digest()
        return cls(conn, schema, table, int.from_bytes(digest[:8], "big", signed=True), clock)

    async def lock(self) -> None:
        await self._conn.execute("SELECT pg_advisory_lock(%s)", (self._lock_key,))

    async def unlock(self) -> None:
        await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._lock_key,))

    async def applied(self) -> builtins.list[AppliedMigration]:
        cursor = await self._conn.execute(f"SELECT version, name, checksum, applied_at FROM {self._q} "
                                          "ORDER BY version")
        return [AppliedMigration(int(v), n, c, float(a)) for v, n, c, a in await cursor.fetchall()]

    async def run(self, migration: Migration, direction: str) -> bool:
        script = migration.up if direction == "up" else migration.down or ""
        async with self._conn.transaction():
            cursor = await self._conn.execute(f"SELECT 1 FROM {self._q} WHERE version = %s", (migration.version,))
            present = await cursor.fetchone()
            if (direction == "up") == (present is not None):
                return False
            await self._conn.execute(script.encode())          # no parameters: several statements are allowed
            if direction == "up":
                await self._conn.execute(f"INSERT INTO {self._q} (version, name, checksum, applied_at) "
                                         "VALUES (%s, %s, %s, %s)",
                                         (migration.version, migration.name, migration.checksum, self._clock()))
            else:
                await self._conn.execute(f"DELETE FROM {self._q} WHERE version = %s", (migration.version,))
        return True

    async def close(self) -> None:
        await self._conn.close()


async def open_migrator(url: str, migrations: Iterable[Migration], *, clock: Any = time.time) -> Migrator:
    """``sqlite:///path.db[?table=T]`` or ``postgresql://...?schema=S&table=T``."""
    parts = urlsplit(url)
    engine: SQLiteMigrationEngine | PostgresMigrationEngine
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise ValueError("a sqlite migration URL needs a file path: sqlite:///app.db")
        table = dict(parse_qsl(parts.query)).get("table", "schema_migrations")
        engine = SQLiteMigrationEngine(path, table=table, clock=clock)
    elif parts.scheme in ("postgresql", "postgres"):
        engine = await PostgresMigrationEngine.open(url, clock=clock)
    else:
        raise ValueError(f"unsupported migration URL scheme {parts.scheme!r}: use sqlite:/// or postgresql://")
    return Migrator(engine, migrations)
