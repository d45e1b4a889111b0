"""Where scheduled jobs live: the JobStore contract and its SQLite and PostgreSQL implementations.

Owns persistence and the one atomic step that makes a tick run once across workers: ``claim`` moves a job's
``next_run`` from the tick it saw to the following one with a compare-and-set, so of all the workers (threads,
processes, machines on a shared store) that see the same due tick, exactly one wins it. The SQLite store is shared
by the processes of one machine (WAL, ``BEGIN IMMEDIATE``, synchronous=FULL through plumego.store.SQLiteDatabase);
the PostgreSQL store by every machine sharing the database. Both run the same SQL. The Redis store
(``_store_redis``, chosen by :func:`open_job_store`) implements the same contract with Lua scripts. Imports the
standard library, plumego.store and this package (psycopg when the PostgreSQL store is created).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from os import PathLike
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from plumego.store import SQLiteDatabase

from ._jobs import DeadLetter, JobInfo, JobOptions, JobState

__all__ = ["JobExistsError", "JobStore", "PostgresJobStore", "SQLiteJobStore", "open_job_store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scheduler_jobs (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    spec TEXT,
    location TEXT NOT NULL,
    payload TEXT NOT NULL,
    options TEXT NOT NULL,
    grp TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    max_runs INTEGER NOT NULL DEFAULT 0,
    next_run REAL,
    running_until REAL,
    runs INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS scheduler_jobs_due ON scheduler_jobs (state, next_run);
CREATE TABLE IF NOT EXISTS scheduler_tags (job_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (tag, job_id));
CREATE TABLE IF NOT EXISTS scheduler_dead (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    task TEXT NOT NULL,
    tick REAL NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at REAL NOT NULL
)
"""
_SCHEMA_PG = (_SCHEMA.replace("REAL", "DOUBLE PRECISION")
              .replace("id INTEGER PRIMARY KEY AUTOINCREMENT", "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"))
_COLS = ("id, task, spec, location, payload, options, grp, tags, state, next_run, runs, failures, last_error,"
         " running_until")


class JobExistsError(ValueError):
    """A job with that id exists and ``replace`` was not asked for."""


class JobStore(Protocol):
    async def add(self, job: JobInfo, *, replace: bool) -> None: ...
    async def get(self, job_id: str) -> JobInfo | None: ...
    async def list_jobs(self, *, state: JobState | None = None, group: str | None = None,
                        tag: str | None = None) -> list[JobInfo]: ...
    async def due(self, now: float, tasks: Sequence[str], limit: int) -> list[tuple[JobInfo, float | None]]: ...
    async def claim(self, job_id: str, tick: float, next_run: float | None, running_until: float | None,
                    now: float) -> bool: ...
    async def finish(self, job_id: str, *, ok: bool, error: str, tick: float, attempts: int, now: float) -> None: ...
    async def set_state(self, job_ids: Sequence[str], state: JobState, now: float,
                        next_runs: dict[str, float | None] | None = None) -> int: ...
    async def extend_run(self, job_id: str, running_until: float) -> None: ...
    async def dead_letters(self, job_id: str | None = None) -> list[DeadLetter]: ...
    async def delete_dead_letters(self, ids: Sequence[int] | None = None) -> int: ...
    async def close(self) -> None: ...


def _info(row: Sequence[Any]) -> JobInfo:
    (id_, task, spec, location, payload, options, grp, tags, state, next_run, runs, failures, last_error,
     running_until) = row
    return JobInfo(id=id_, task=task, spec=spec, location=location, payload=json.loads(payload),
                   state=JobState(state), next_run=next_run, runs=runs, failures=failures, last_error=last_error,
                   options=JobOptions.from_json(options, grp, json.loads(tags)), running_until=running_until)


class _Conn(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...


class _SQLJobStore:
    """The store's SQL, written once with ``?`` placeholders; a subclass provides transactions on its engine.
    Every statement runs in a worker thread (``asyncio.to_thread``), so the event loop never waits on the database."""

    def _write(self) -> AbstractContextManager[_Conn]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[_Conn]:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    async def add(self, job: JobInfo, *, replace: bool) -> None:
        def run() -> None:
            now = time.time()
            with self._write() as conn:
                exists = conn.execute("SELECT 1 FROM scheduler_jobs WHERE id = ?", (job.id,)).fetchone()
                if exists and not replace:
                    raise JobExistsError(f"job {job.id!r} exists already")
                conn.execute("DELETE FROM scheduler_jobs WHERE id = ?", (job.id,))
                conn.execute("DELETE FROM scheduler_tags WHERE job_id = ?", (job.id,))
                conn.execute(
                    "INSERT INTO scheduler_jobs (id, task, spec, location, payload, options, grp, tags, state,"
                    " max_runs, next_run, runs, failures, last_error, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '', ?, ?)",
                    (job.id, job.task, job.spec, job.location, json.dumps(job.payload), job.options.to_json(),
                     job.options.group, json.dumps(list(job.options.tags)), job.state.value, job.options.max_runs,
                     job.next_run, now, now))
                conn.executemany("INSERT INTO scheduler_tags (job_id, tag) VALUES (?, ?)",
                                 [(job.id, t) for t in dict.fromkeys(job.options.tags)])
        await asyncio.to_thread(run)

    async def get(self, job_id: str) -> JobInfo | None:
        def run() -> JobInfo | None:
            with self._read() as conn:
                row = conn.execute(f"SELECT {_COLS} FROM scheduler_jobs WHERE id = ?", (job_id,)).fetchone()
            return None if row is None else _info(row)
        return await asyncio.to_thread(run)

    async def list_jobs(self, *, state: JobState | None = None, group: str | None = None,
                        tag: str | None = None) -> list[JobInfo]:
        where, args = ["1 = 1"], []
        if state is not None:
            where.append("state = ?")
            args.append(state.value)
        if group is not None:
            where.append("grp = ?")
            args.append(group)
        if tag is not None:
            where.append("id IN (SELECT job_id FROM scheduler_tags WHERE tag = ?)")
            args.append(tag)

        def run() -> list[JobInfo]:
            with self._read() as conn:
                rows = conn.execute(f"SELECT {_COLS} FROM scheduler_jobs WHERE {' AND '.join(where)} ORDER BY id",
                                    args).fetchall()
            return [_info(r) for r in rows]
        return await asyncio.to_thread(run)

    async def due(self, now: float, tasks: Sequence[str], limit: int) -> list[tuple[JobInfo, float | None]]:
        """Scheduled jobs of ``tasks`` whose ``next_run`` has come, oldest first, with their ``running_until``."""
        if not tasks:
            return []
        marks = ", ".join("?" * len(tasks))

        def run() -> list[tuple[JobInfo, float | None]]:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {_COLS} FROM scheduler_jobs WHERE state = 'scheduled' AND next_run <= ?"
                    f" AND task IN ({marks}) ORDER BY next_run LIMIT ?", (now, *tasks, limit)).fetchall()
            return [(info, info.running_until) for info in map(_info, rows)]
        return await asyncio.to_thread(run)

    async def claim(self, job_id: str, tick: float, next_run: float | None, running_until: float | None,
                    now: float) -> bool:
        """Move ``next_run`` from ``tick`` to ``next_run`` if nobody did yet; True for the one caller that did.
        ``running_until`` None means "skip this tick" (the run lease is left as it is)."""
        def run() -> bool:
            with self._write() as conn:
                if running_until is None:
                    cur = conn.execute("UPDATE scheduler_jobs SET next_run = ?, updated_at = ? WHERE id = ?"
                                       " AND state = 'scheduled' AND next_run = ?", (next_run, now, job_id, tick))
                else:    # a run: count it here, so overlapping runs cannot exceed max_runs
                    cur = conn.execute(
                        "UPDATE scheduler_jobs SET runs = runs + 1, running_until = ?, updated_at = ?,"
                        " next_run = CASE WHEN max_runs > 0 AND runs + 1 >= max_runs THEN NULL"
                        " ELSE CAST(? AS DOUBLE PRECISION) END"
                        " WHERE id = ? AND state = 'scheduled' AND next_run = ?",
                        (running_until, now, next_run, job_id, tick))
                return bool(cur.rowcount == 1)
        return await asyncio.to_thread(run)

    async def finish(self, job_id: str, *, ok: bool, error: str, tick: float, attempts: int, now: float) -> None:
        """Record the end of a run: release the run lease, dead-letter a failure, and end the job when it has no
        next run (a one-off job, or ``max_runs`` reached): completed, or dead when a one-off job failed."""
        def run() -> None:
            with self._write() as conn:
                row = conn.execute("SELECT task, spec, next_run FROM scheduler_jobs WHERE id = ?",
                                   (job_id,)).fetchone()
                if row is None:
                    return
                task, spec, next_run = row
                final = None
                if next_run is None:
                    final = "dead" if spec is None and not ok else "completed"
                conn.execute(
                    "UPDATE scheduler_jobs SET failures = failures + ?, last_error = ?, running_until = NULL,"
                    " updated_at = ?, state = CASE WHEN state = 'scheduled' THEN ? ELSE state END WHERE id = ?",
                    (0 if ok else 1, "" if ok else error, now, final or "scheduled", job_id))
                if not ok:
                    conn.execute("INSERT INTO scheduler_dead (job_id, task, tick, attempts, error, failed_at)"
                                 " VALUES (?, ?, ?, ?, ?, ?)", (job_id, task, tick, attempts, error, now))
        await asyncio.to_thread(run)

    async def extend_run(self, job_id: str, running_until: float) -> None:
        """Renew the "running" mark of a run that is still going (the run's heart-beat)."""
        def run() -> None:
            with self._write() as conn:
                conn.execute("UPDATE scheduler_jobs SET running_until = ? WHERE id = ? AND running_until IS NOT NULL",
                             (running_until, job_id))
        await asyncio.to_thread(run)

    async def set_state(self, job_ids: Sequence[str], state: JobState, now: float,
                        next_runs: dict[str, float | None] | None = None) -> int:
        def run() -> int:
            n = 0
            with self._write() as conn:
                for job_id in job_ids:
                    if next_runs is not None and job_id in next_runs:
                        cur = conn.execute("UPDATE scheduler_jobs SET state = ?, next_run = ?, updated_at = ?"
                                           " WHERE id = ?", (state.value, next_runs[job_id], now, job_id))
                    else:
                        cur = conn.execute("UPDATE scheduler_jobs SET state = ?, updated_at = ? WHERE id = ?",
                                           (state.value, now, job_id))
                    n += cur.rowcount
            return n
        return await asyncio.to_thread(run)

    async def dead_letters(self, job_id: str | None = None) -> list[DeadLetter]:
        def run() -> list[DeadLetter]:
            with self._read() as conn:
                sql = "SELECT id, job_id, task, tick, attempts, error, failed_at FROM scheduler_dead"
                rows = conn.execute(sql + (" WHERE job_id = ? ORDER BY id" if job_id else " ORDER BY id"),
                                    (job_id,) if job_id else ()).fetchall()
            return [DeadLetter(*r) for r in rows]
        return await asyncio.to_thread(run)

    async def delete_dead_letters(self, ids: Sequence[int] | None = None) -> int:
        def run() -> int:
            with self._write() as conn:
                if ids is None:
                    return int(conn.execute("DELETE FROM scheduler_dead").rowcount)
                return sum(int(conn.execute("DELETE FROM scheduler_dead WHERE id = ?", (i,)).rowcount) for i in ids)
        return await asyncio.to_thread(run)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)


class SQLiteJobStore(_SQLJobStore):
    """Jobs in one SQLite file (``sqlite:///jobs.db``), shared by the processes of one machine."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self._db = SQLiteDatabase(path)
        self._db.apply_schema(_SCHEMA)

    def _write(self) -> AbstractContextManager[_Conn]:
        return self._db.write()

    def _read(self) -> AbstractContextManager[_Conn]:
        return self._db.read()

    def _close(self) -> None:
        self._db.close()


class _PGConn:
    """psycopg behind the DB-API shape the store's SQL uses (``?`` becomes ``%s``)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        with self._conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)
            return cur


class PostgresJobStore(_SQLJobStore):
    """Jobs in PostgreSQL (``postgresql://host/db?schema=S``): every scheduler on every machine that shares the
    database runs each tick once (the same compare-and-set ``claim``). Needs ``pip install 'plumego[postgres]'``."""

    def __init__(self, url: str, *, max_connections: int = 4) -> None:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("the PostgreSQL job store needs psycopg: pip install 'plumego[postgres]'") from exc
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in params if k == "schema"), "public")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema):
            raise ValueError(f"schema {schema!r} must be a plain SQL identifier")
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path,
                               urlencode([(k, v) for k, v in params if k != "schema"]), ""))
        self._pool: Any = ConnectionPool(conninfo, min_size=1, max_size=max_connections, open=True,
                                         kwargs={"options": f"-c search_path={schema}"})
        import psycopg

        with self._pool.connection() as conn:
            try:
                with conn.transaction():
                    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                    for statement in _SCHEMA_PG.split(";"):
                        if statement.strip():
                            conn.execute(statement)
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                pass                                    # another process created them at the same moment

    @contextmanager
    def _write(self) -> Iterator[_Conn]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PGConn(conn)

    @contextmanager
    def _read(self) -> Iterator[_Conn]:
        with self._pool.connection() as conn:
            yield _PGConn(conn)

    def _close(self) -> None:
        self._pool.close()


def open_job_store(where: str | PathLike[str]) -> JobStore:
    """The store a URL or path names: ``sqlite:///jobs.db`` or a plain path (SQLite), ``postgresql://...?schema=S``,
    ``redis://host:6379/0?prefix=NS``. The server stores import their client library only when named."""
    text = str(where)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme in ("", "sqlite"):
        path = text.split("://", 1)[1] if scheme else text
        path = path[1:] if scheme and path.startswith("/") else path     # sqlite:///a.db -> a.db
        if not path:
            raise ValueError("a SQLite job store needs a file path: sqlite:///jobs.db")
        return SQLiteJobStore(path)
    if scheme in ("postgresql", "postgres"):
        return PostgresJobStore(text)
    if scheme in ("redis", "rediss"):
        from ._store_redis import RedisJobStore

        return RedisJobStore(text)
    raise ValueError(f"unsupported job store {scheme!r}: use a path, sqlite:///, postgresql:// or redis://")
