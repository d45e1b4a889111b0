"""SQLite plumbing shared by the embedded KV and idempotency stores: WAL-mode connections and write transactions.

Durability choices live here once: WAL journal, ``synchronous=FULL`` (an acknowledged commit survives kill -9 and
power loss), a busy timeout and ``BEGIN IMMEDIATE`` so writers from several processes queue instead of failing.
Imports only the standard library.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike

from ._errors import StoreClosedError

__all__ = ["SQLiteDatabase"]


class SQLiteDatabase:
    """One WAL-mode connection guarded by a lock; safe to share between threads of one process.

    Several processes may open the same file: ``BEGIN IMMEDIATE`` takes the write lock up front (no lock upgrade
    deadlocks) and ``busy_timeout`` makes a second writer wait for it. Readers never block writers under WAL.
    """

    def __init__(self, path: str | PathLike[str], *, busy_timeout: float = 30.0) -> None:
        if busy_timeout < 0:
            raise ValueError("busy_timeout must be >= 0")
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if self.path != ":memory:" and (mode is None or str(mode[0]).lower() != "wal"):
                raise sqlite3.OperationalError(f"could not enable WAL journal mode on {self.path}")
            self._conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    @property
    def closed(self) -> bool:
        return self._conn is None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Yield the connection for reads (autocommit: each statement sees the latest committed state)."""
        with self._lock:
            yield self._connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one ``BEGIN IMMEDIATE`` transaction: all of it commits, or none of it does."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def apply_schema(self, script: str) -> None:
        """Run ``;``-separated DDL (``CREATE ... IF NOT EXISTS``) in one write transaction: all of it or none.

        ``sqlite3.executescript`` would commit whatever transaction is open first, so the statements run one by
        one inside ``write()`` instead. The script must not hold a ``;`` inside a literal.
        """
        with self.write() as conn:
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError(f"database {self.path} is closed")
        return self._conn
