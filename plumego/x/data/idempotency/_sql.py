"""Idempotency keys in a SQL table (Go's ``SQLStore``): PostgreSQL (psycopg 3) and MySQL/MariaDB (asyncmy).

Owns :class:`PostgresIdempotencyStore` and :class:`MySQLIdempotencyStore`. Each operation is one transaction that
locks the key's row (a ``begin`` inserts a placeholder row or finds the existing one, which takes the row lock,
then reads it ``FOR UPDATE``), so any number of workers on any number of machines run a key's
request once. Times come from the caller's clock, as in the stable stores. Install with
``pip install 'plumego[data]'`` (psycopg for PostgreSQL, asyncmy for MySQL/MariaDB); drivers are imported when a
store is opened. Imports the standard library, plumego.store and this package.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from plumego.store import (
    DEFAULT_IDEMPOTENCY_TTL,
    DEFAULT_LOCK_TTL,
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyStatus,
    StoreError,
    validate_key,
)

from . import _decide

__all__ = ["MySQLIdempotencyStore", "PostgresIdempotencyStore"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_COLUMNS = "idem_key, fingerprint, status, response, created_at, updated_at, expires_at, lock_token, lock_expires_at"


def _ident(name: str, what: str = "table") -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} name {name!r} must be a plain SQL identifier (letters, digits, _)")
    return name


def _record(row: Sequence[Any]) -> IdempotencyRecord:
    key = row[0].decode() if isinstance(row[0], (bytes, bytearray)) else row[0]
    return IdempotencyRecord(key=key, fingerprint=row[1], status=IdempotencyStatus(row[2]),
                             response=None if row[3] is None else bytes(row[3]), created_at=float(row[4]),
                             updated_at=float(row[5]), expires_at=float(row[6]), lock_token=row[7],
                             lock_expires_at=None if row[8] is None else float(row[8]))


def _params(r: IdempotencyRecord) -> tuple[Any, ...]:
    return (r.fingerprint, r.status.value, r.response, r.created_at, r.updated_at, r.expires_at, r.lock_token,
            r.lock_expires_at, r.key)


# A transaction body: (fetch one row for update, execute) -> result. Both drivers run the same decisions.
Fetch = Callable[[str, tuple[Any, ...]], Awaitable[Sequence[Any] | None]]
Execute = Callable[[str, tuple[Any, ...]], Awaitable[int]]


class _SQLIdempotency:
    """The operations, written once over a placeholder style and a transaction runner."""

    _ph = "%s"

    def __init__(self, table: str, clock: Callable[[], float]) -> None:
        self._t = table
        self._clock = clock
        p = self._ph
        self._select = f"SELECT {_COLUMNS} FROM {table} WHERE idem_key = {p}"
        self._update = (f"UPDATE {table} SET fingerprint = {p}, status = {p}, response = {p}, created_at = {p}, "
                        f"updated_at = {p}, expires_at = {p}, lock_token = {p}, lock_expires_at = {p} "
                        f"WHERE idem_key = {p}")

    async def _transaction(self, body: Callable[[Fetch, Execute], Awaitable[Any]]) -> Any:
        try:
            return await self._run_transaction(body)
        except StoreError:
            raise                     # the protocol's own answers (conflict, in progress, lock lost)
        except Exception as exc:
            if self._backend_failure(exc):
                raise _decide.IdempotencyBackendError(f"{type(self).__name__}: {exc}") from exc
            raise

    async def _run_transaction(self, body: Callable[[Fetch, Execute], Awaitable[Any]]) -> Any:
        raise NotImplementedError

    def _backend_failure(self, exc: Exception) -> bool:
        raise NotImplementedError

    def _insert_placeholder_sql(self) -> str:
        raise NotImplementedError

    async def _locked(self, fetch: Fetch, execute: Execute, key: str, create: bool) -> IdempotencyRecord | None:
        """The key's row, locked for this transaction; with ``create``, a placeholder is inserted first if none."""
        if create:   # insert first: it takes the row lock at once, so two new-key racers queue, never deadlock
            await execute(self._insert_placeholder_sql(), (key,))
        row = await fetch(self._select + " FOR UPDATE", (key,))
        if row is None or row[2] == "placeholder":
            return None
        return _record(row)

    async def begin(self, key: str, fingerprint: str, *, ttl: float = DEFAULT_IDEMPOTENCY_TTL,
                    lock_ttl: float = DEFAULT_LOCK_TTL) -> IdempotencyClaim:
        _decide.validate(key, fingerprint, ttl, lock_ttl)

        async def body(fetch: Fetch, execute: Execute) -> IdempotencyClaim:
            current = await self._locked(fetch, execute, key, create=True)
            claim, record = _decide.begin(current, key, fingerprint, self._clock(), ttl, lock_ttl)
            if record is not None:
                await execute(self._update, _params(record))
            return claim

        claim: IdempotencyClaim = await self._transaction(body)
        return claim

    async def complete(self, key: str, token: str, response: bytes) -> IdempotencyRecord:
        async def body(fetch: Fetch, execute: Execute) -> IdempotencyRecord:
            now = self._clock()
            done = _decide.completed(_decide.owned(await self._locked(fetch, execute, key, False), key, token, now),
                                     response, now)
            await execute(self._update, _params(done))
            return done

        record: IdempotencyRecord = await self._transaction(body)
        return record

    async def release(self, key: str, token: str) -> None:
        async def body(fetch: Fetch, execute: Execute) -> None:
            _decide.owned(await self._locked(fetch, execute, key, False), key, token, self._clock())
            await execute(f"DELETE FROM {self._t} WHERE idem_key = {self._ph}", (key,))

        await self._transaction(body)

    async def get(self, key: str) -> IdempotencyRecord | None:
        validate_key(key)

        async def body(fetch: Fetch, execute: Execute) -> IdempotencyRecord | None:
            row = await fetch(self._select, (key,))
            return None if row is None or row[2] == "placeholder" else _record(row)

        record: IdempotencyRecord | None = await self._transaction(body)
        if record is None or record.expires_at <= self._clock():
            return None
        return record

    async def delete(self, key: str) -> bool:
        async def body(fetch: Fetch, execute: Execute) -> bool:
            return await execute(f"DELETE FROM {self._t} WHERE idem_key = {self._ph}", (key,)) > 0

        deleted: bool = await self._transaction(body)
        return deleted

    async def purge_expired(self) -> int:
        """Remove records past their expiry (run it now and then; Redis expires keys by itself)."""
        async def body(fetch: Fetch, execute: Execute) -> int:
            return await execute(f"DELETE FROM {self._t} WHERE expires_at <= {self._ph}", (self._clock(),))

        removed: int = await self._transaction(body)
        return removed


def _split(url: str, keys: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in params if k in keys}
    rest = [(k, v) for k, v in params if k not in keys]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment)), ours


class PostgresIdempotencyStore(_SQLIdempotency):
    """The stable ``IdempotencyStore`` on PostgreSQL. Open with ``await PostgresIdempotencyStore.open(url)``
    (``postgresql://...?schema=S&table=T``; table ``idempotency_keys`` by default, as in Go)."""

    def __init__(self, pool: Any, table: str, clock: Callable[[], float]) -> None:
        self._pool = pool
        super().__init__(table, clock)

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time, max_connections: int = 10,
                   pool_timeout: float = 5.0) -> PostgresIdempotencyStore:
        """``pool_timeout``: how long a call waits for a connection before failing with IdempotencyBackendError
        (a broken connection is replaced at checkout)."""
        try:
            from psycopg import errors as pg_errors
            from psycopg_pool import AsyncConnectionPool
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("the PostgreSQL idempotency store needs psycopg 3: pip install 'plumego[data]'") from exc
        conninfo, ours = _split(url, ("schema", "table"))
        schema = _ident(ours.get("schema", "public"), "schema")
        table = f"{schema}.{_ident(ours.get('table', 'idempotency_keys'))}"
        pool: Any = AsyncConnectionPool(conninfo, min_size=1, max_size=max_connections, open=False,
                                        timeout=pool_timeout, check=AsyncConnectionPool.check_connection)
        await pool.open(wait=True, timeout=10)
        try:
            async with pool.connection() as conn:
                for statement in (
                    f"CREATE SCHEMA IF NOT EXISTS {schema}",
                    f"""CREATE TABLE IF NOT EXISTS {table} (
                        idem_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status TEXT NOT NULL,
                        response BYTEA, created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
                        expires_at DOUBLE PRECISION NOT NULL, lock_token TEXT, lock_expires_at DOUBLE PRECISION)""",
                    f"CREATE INDEX IF NOT EXISTS {table.split('.')[1]}_expires ON {table} (expires_at)",
                ):
                    try:
                        await conn.execute(statement)
                        await conn.commit()
                    except (pg_errors.UniqueViolation, pg_errors.DuplicateObject, pg_errors.DuplicateTable):
                        await conn.rollback()   # another process created it at the same moment
        except BaseException:
            await pool.close()
            raise
        return cls(pool, table, clock)

    def _insert_placeholder_sql(self) -> str:
        return (f"INSERT INTO {self._t} ({_COLUMNS}) VALUES (%s, '', 'placeholder', NULL, 0, 0, 0, NULL, NULL) "
                "ON CONFLICT (idem_key) DO NOTHING")

    def _backend_failure(self, exc: Exception) -> bool:
        import psycopg
        from psycopg_pool import PoolTimeout

        return isinstance(exc, (psycopg.Error, PoolTimeout, OSError))

    async def _run_transaction(self, body: Callable[[Fetch, Execute], Awaitable[Any]]) -> Any:
        async with self._pool.connection() as conn:
            async with conn.transaction():
                async def fetch(sql: str, params: tuple[Any, ...]) -> Sequence[Any] | None:
                    cursor = await conn.execute(sql, params)
                    row: Sequence[Any] | None = await cursor.fetchone()
                    return row

                async def execute(sql: str, params: tuple[Any, ...]) -> int:
                    cursor = await conn.execute(sql, params)
                    return int(cursor.rowcount)

                return await body(fetch, execute)

    async def close(self) -> None:
        await self._pool.close()


class MySQLIdempotencyStore(_SQLIdempotency):
    """The stable ``IdempotencyStore`` on MySQL or MariaDB (InnoDB). Open with
    ``await MySQLIdempotencyStore.open("mysql://user:pass@host:3306/db?table=T")``."""

    def __init__(self, pool: Any, table: str, clock: Callable[[], float]) -> None:
        self._pool = pool
        super().__init__(table, clock)

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time,
                   max_connections: int = 10) -> MySQLIdempotencyStore:
        try:
            import asyncmy
        except ImportError as exc:  # pragma: no cover - exercised only without the driver
            raise ImportError("the MySQL/MariaDB idempotency store needs asyncmy: pip install 'plumego[data]'") from exc
        _, ours = _split(url, ("table",))
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb") or not parts.path.strip("/"):
            raise ValueError("a MySQL URL looks like mysql://user:password@host:3306/database")
        table = _ident(ours.get("table", "idempotency_keys"))
        pool = await asyncmy.create_pool(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                                         user=unquote(parts.username or "root"),
                                         password=unquote(parts.password or ""), db=parts.path.strip("/"),
                                         maxsize=max_connections, autocommit=False)
        try:
            async with pool.acquire() as conn, conn.cursor() as cursor:
                await cursor.execute(
                    f"""CREATE TABLE IF NOT EXISTS {table} (
                        idem_key VARBINARY(1024) NOT NULL PRIMARY KEY, fingerprint TEXT NOT NULL,
                        status VARCHAR(16) NOT NULL, response LONGBLOB, created_at DOUBLE NOT NULL,
                        updated_at DOUBLE NOT NULL, expires_at DOUBLE NOT NULL, lock_token VARCHAR(64),
                        lock_expires_at DOUBLE, INDEX {table}_expires (expires_at)
                    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""")
                await conn.commit()
        except BaseException:
            pool.close()
            await pool.wait_closed()
            raise
        return cls(pool, table, clock)

    def _insert_placeholder_sql(self) -> str:
        return (f"INSERT INTO {self._t} ({_COLUMNS}) VALUES (%s, '', 'placeholder', NULL, 0, 0, 0, NULL, NULL) "
                "ON DUPLICATE KEY UPDATE idem_key = idem_key")

    def _backend_failure(self, exc: Exception) -> bool:
        return type(exc).__module__.startswith("asyncmy") or isinstance(exc, (OSError, asyncio.TimeoutError))

    async def _run_transaction(self, body: Callable[[Fetch, Execute], Awaitable[Any]]) -> Any:
        async with self._pool.acquire() as conn:
            try:
                async with conn.cursor() as cursor:
                    async def fetch(sql: str, params: tuple[Any, ...]) -> Sequence[Any] | None:
                        await cursor.execute(sql, params)
                        row: Sequence[Any] | None = await cursor.fetchone()
                        return row

                    async def execute(sql: str, params: tuple[Any, ...]) -> int:
                        return int(await cursor.execute(sql, params))

                    result = await body(fetch, execute)
                await conn.commit()
                return result
            except BaseException:
                await conn.rollback()
                raise

    async def close(self) -> None:
        self._pool.close()
        await self._pool.wait_closed()
