"""Session storage backends: memory (per process), SQLite (the default for persistence; WAL and
``synchronous=FULL``) and Redis (shared by every worker and instance). Writes are compare-and-set on the session's
version so concurrent appends from several workers never lose a message: the manager re-reads and retries.

Backends are chosen by URL with ``open_storage``: ``memory://``, ``sqlite:///path/to/sessions.db``,
``redis://host:6379/0?prefix=app``. Imports the standard library and x/ai; redis-py lazily
(``pip install 'plumego[redis]'``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from ._model import Session

__all__ = ["MemoryStorage", "RedisStorage", "SQLiteStorage", "SessionStorage", "open_storage"]


@runtime_checkable
class SessionStorage(Protocol):
    name: str
    shared: bool          # capability: visible to other processes

    async def load(self, session_id: str) -> Session | None: ...

    async def store(self, session: Session, expected_version: int) -> bool:
        """Write ``session`` (whose ``version`` is already ``expected_version + 1``) if the stored version is still
        ``expected_version`` (0: must not exist yet). False on a conflict."""
        ...

    async def delete(self, session_id: str) -> bool: ...

    async def purge_expired(self, now: float) -> int: ...

    async def aclose(self) -> None: ...


class MemoryStorage:
    """Per process: with several workers each has its own sessions. Use SQLite or Redis to share them."""

    name = "memory"
    shared = False

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._versions: dict[str, int] = {}

    async def load(self, session_id: str) -> Session | None:
        raw = self._data.get(session_id)
        return Session.from_json(raw) if raw is not None else None

    async def store(self, session: Session, expected_version: int) -> bool:
        if self._versions.get(session.id, 0) != expected_version:
            return False
        self._data[session.id] = session.to_json()
        self._versions[session.id] = session.version
        return True

    async def delete(self, session_id: str) -> bool:
        self._versions.pop(session_id, None)
        return self._data.pop(session_id, None) is not None

    async def purge_expired(self, now: float) -> int:
        gone = [sid for sid, raw in self._data.items() if Session.from_json(raw).expires_at <= now]
        for sid in gone:
            await self.delete(sid)
        return len(gone)

    async def aclose(self) -> None:
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS ai_sessions (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ai_sessions_expires ON ai_sessions (expires_at);
"""


class SQLiteStorage:
    """One SQLite file, shared by the processes of one machine (WAL, busy timeout). Calls run in a worker thread."""

    name = "sqlite"
    shared = True

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def _run(self, sql: str, args: tuple[Any, ...]) -> tuple[list[Any], int]:
        """Rows (all fetched, so no read snapshot stays open) and the row count."""
        with self._lock:
            cur = self._conn.execute(sql, args)
            try:
                return cur.fetchall(), cur.rowcount
            finally:
                cur.close()

    async def load(self, session_id: str) -> Session | None:
        def go() -> Session | None:
            rows, _ = self._run("SELECT data FROM ai_sessions WHERE id = ?", (session_id,))
            return Session.from_json(rows[0][0]) if rows else None
        return await asyncio.to_thread(go)

    async def store(self, session: Session, expected_version: int) -> bool:
        data = session.to_json()

        def go() -> bool:
            if expected_version == 0:
                _, count = self._run("INSERT OR IGNORE INTO ai_sessions (id, version, expires_at, data) "
                                     "VALUES (?,?,?,?)",
                                (session.id, session.version, session.expires_at, data))
            else:
                _, count = self._run("UPDATE ai_sessions SET version = ?, expires_at = ?, data = ? "
                                "WHERE id = ? AND version = ?",
                                (session.version, session.expires_at, data, session.id, expected_version))
            return count == 1
        return await asyncio.to_thread(go)

    async def delete(self, session_id: str) -> bool:
        return await asyncio.to_thread(
            lambda: self._run("DELETE FROM ai_sessions WHERE id = ?", (session_id,))[1] == 1)

    async def purge_expired(self, now: float) -> int:
        return await asyncio.to_thread(
            lambda: self._run("DELETE FROM ai_sessions WHERE expires_at <= ?", (now,))[1])

    async def aclose(self) -> None:
        await asyncio.to_thread(self._conn.close)


# KEYS[1] = session hash; ARGV = expected version, new version, data, expire-at (ms since epoch)
_CAS = """
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1
"""


class RedisStorage:
    """A Redis hash per session (``{prefix}session:<id>``), expiring with the session (PEXPIREAT), written by a
    compare-and-set script. Shared by every worker and instance."""

    name = "redis"
    shared = True

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "plumego:ai") -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:   # pragma: no cover - part of dev
            raise ImportError("RedisStorage needs redis-py: pip install 'plumego[redis]'") from exc
        self._redis: Any = aioredis.Redis.from_url(url)
        self._prefix = prefix
        self._cas: Any = self._redis.register_script(_CAS)

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    async def load(self, session_id: str) -> Session | None:
        raw = await self._redis.hget(self._key(session_id), "d")
        return Session.from_json(raw) if raw is not None else None

    async def store(self, session: Session, expected_version: int) -> bool:
        expire_ms = int(max(session.expires_at, time.time() + 1) * 1000)
        ok = await self._cas(keys=[self._key(session.id)],
                             args=[str(expected_version), str(session.version), session.to_json(), expire_ms])
        return bool(ok)

    async def delete(self, session_id: str) -> bool:
        return bool(await self._redis.delete(self._key(session_id)))

    async def purge_expired(self, now: float) -> int:
        return 0       # Redis expires the keys itself

    async def aclose(self) -> None:
        await self._redis.aclose()


def open_storage(url: str) -> SessionStorage:
    parts = urlsplit(url or "memory://")
    if parts.scheme == "memory":
        return MemoryStorage()
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path   # sqlite:///a.db -> a.db
        if not path:
            raise ValueError("a sqlite session URL needs a file path: sqlite:///sessions.db")
        return SQLiteStorage(path)
    if parts.scheme in ("redis", "rediss"):
        prefix = parse_qs(parts.query).get("prefix", ["plumego:ai"])[0]
        return RedisStorage(url.split("?", 1)[0], prefix=prefix)
    raise ValueError(f"unsupported session storage URL {url!r} (memory://, sqlite:///path, redis://host:port/db)")
