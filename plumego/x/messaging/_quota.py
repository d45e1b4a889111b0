"""Send quotas of the notification service (Go's ``QuotaChecker``): how many messages a tenant, or a recipient, may
be sent per minute, hour, day or month, counted in a store that every API process shares.

Owns the limits, the fixed windows (aligned in UTC by truncation, months from the 1st, as Go's
``FixedWindowQuotaManager``) and three counter stores: :class:`MemoryQuotaStore` (one process),
:class:`SQLiteQuotaStore` (the processes of one machine; one ``BEGIN IMMEDIATE`` transaction per send) and
:class:`RedisQuotaStore` (every machine; one Lua script per send). A send takes one unit from every limit that
applies to it, all or nothing, so a refused send consumes no quota; a send refused later (a duplicate) gives its
units back. Recipients are counted under a hash of the address, so no address is stored in the counters.
Imports the standard library and plumego.store (redis-py when the Redis store is created); never plumego.core.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from os import PathLike
from typing import Any, Literal, Protocol

from plumego.store import SQLiteDatabase

__all__ = ["MemoryQuotaStore", "QuotaChecker", "QuotaExceeded", "QuotaLimit", "QuotaStore", "RedisQuotaStore",
           "SQLiteQuotaStore"]

Scope = Literal["tenant", "recipient"]
Window = Literal["minute", "hour", "day", "month"]
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

Counter = tuple[str, int, float]          # (key, limit, window end as Unix seconds)


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    """At most ``limit`` messages per ``window`` for each tenant (``scope="tenant"``) or each recipient address
    (``scope="recipient"``), on ``channel`` (``sms``/``email``) or on every channel (None)."""

    scope: Scope
    window: Window
    limit: int
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.scope not in ("tenant", "recipient"):
            raise ValueError("quota scope must be 'tenant' or 'recipient'")
        if self.window not in ("minute", "hour", "day", "month"):
            raise ValueError("quota window must be minute, hour, day or month")
        if self.limit < 0:
            raise ValueError("quota limit must be >= 0")
        if self.channel not in (None, "sms", "email"):
            raise ValueError("quota channel must be sms, email or None")


@dataclass(frozen=True, slots=True)
class QuotaExceeded:
    """Why a send was refused: the limit that is full, and when its window ends (``retry_after`` seconds)."""

    limit: QuotaLimit
    retry_after: int

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.limit.scope, "window": self.limit.window, "limit": self.limit.limit,
                "channel": self.limit.channel, "retry_after": self.retry_after}


def window_bounds(window: Window, now: float) -> tuple[float, float]:
    """The fixed window holding ``now``: [start, end) in Unix seconds, UTC."""
    if window == "month":
        d = datetime.fromtimestamp(now, timezone.utc)
        first = datetime(d.year, d.month, 1, tzinfo=timezone.utc).timestamp()
        return first, first + calendar.monthrange(d.year, d.month)[1] * 86400
    size = _SECONDS[window]
    return now - now % size, now - now % size + size


class QuotaStore(Protocol):
    async def reserve(self, counters: Sequence[Counter], now: float) -> int:
        """Add one to every counter unless one of them is at its limit; -1 when added, else the index of the first
        full counter (and nothing was added)."""
        ...

    async def refund(self, counters: Sequence[Counter], now: float) -> None:
        """Give back one unit of each counter (a send that was refused after its reservation)."""
        ...

    async def close(self) -> None: ...


class QuotaChecker:
    """The limits and the store they are counted in. ``check`` reserves; ``refund`` gives back."""

    def __init__(self, store: QuotaStore, limits: Sequence[QuotaLimit], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = tuple(limits)
        self._clock = clock

    def counters(self, tenant_id: str, to: str, channel: str) -> tuple[list[QuotaLimit], list[Counter]]:
        now = self._clock()
        applying, counters = [], []
        for limit in self.limits:
            if limit.channel is not None and limit.channel != channel:
                continue
            subject = tenant_id if limit.scope == "tenant" else hashlib.sha256(to.encode()).hexdigest()[:32]
            start, end = window_bounds(limit.window, now)
            counters.append((f"{limit.scope}:{limit.channel or '*'}:{limit.window}:{int(start)}:{subject}",
                             limit.limit, end))
            applying.append(limit)
        return applying, counters

    async def check(self, *, tenant_id: str, to: str, channel: str) -> QuotaExceeded | None:
        """Take one unit of every applicable limit; the limit that is full instead (nothing taken), or None."""
        applying, counters = self.counters(tenant_id, to, channel)
        if not counters:
            return None
        now = self._clock()
        full = await self.store.reserve(counters, now)
        if full < 0:
            return None
        return QuotaExceeded(applying[full], max(1, int(counters[full][2] - now + 0.999)))

    async def refund(self, *, tenant_id: str, to: str, channel: str) -> None:
        _, counters = self.counters(tenant_id, to, channel)
        if counters:
            await self.store.refund(counters, self._clock())


class MemoryQuotaStore:
    """Counters in this process only (tests, a single-process app)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    async def reserve(self, counters: Sequence[Counter], now: float) -> int:
        for key in [k for k, (_, end) in self._counts.items() if end <= now]:
            del self._counts[key]
        for i, (key, limit, _) in enumerate(counters):
            if self._counts.get(key, (0, 0.0))[0] >= limit:
                return i
        for key, _, end in counters:
            self._counts[key] = (self._counts.get(key, (0, end))[0] + 1, end)
        return -1

    async def refund(self, counters: Sequence[Counter], now: float) -> None:
        for key, _, end in counters:
            count = self._counts.get(key, (0, end))[0]
            if count > 0:
                self._counts[key] = (count - 1, end)

    async def close(self) -> None:
        return None


_SQL_SCHEMA = """
CREATE TABLE IF NOT EXISTS messaging_quota (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messaging_quota_expiry ON messaging_quota (expires_at)
"""


class SQLiteQuotaStore:
    """Counters in a SQLite file, shared by the processes of one machine."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self._db = SQLiteDatabase(path)
        self._db.apply_schema(_SQL_SCHEMA)

    async def reserve(self, counters: Sequence[Counter], now: float) -> int:
        def run() -> int:
            with self._db.write() as conn:
                conn.execute("DELETE FROM messaging_quota WHERE expires_at <= ?", (now,))
                for i, (key, limit, _) in enumerate(counters):
                    row = conn.execute("SELECT count FROM messaging_quota WHERE key = ?", (key,)).fetchone()
                    if (row[0] if row else 0) >= limit:
                        return i
                for key, _, end in counters:
                    conn.execute("INSERT INTO messaging_quota (key, count, expires_at) VALUES (?, 1, ?)"
                                 " ON CONFLICT (key) DO UPDATE SET count = count + 1", (key, end))
            return -1
        return await asyncio.to_thread(run)

    async def refund(self, counters: Sequence[Counter], now: float) -> None:
        def run() -> None:
            with self._db.write() as conn:
                for key, _, _ in counters:
                    conn.execute("UPDATE messaging_quota SET count = count - 1 WHERE key = ? AND count > 0", (key,))
        await asyncio.to_thread(run)

    async def close(self) -> None:
        await asyncio.to_thread(self._db.close)


_RESERVE = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i - 1]) then return i - 1 end
end
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIREAT', KEYS[i], ARGV[2 * i])
end
return -1
"""

_REFUND = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""


class RedisQuotaStore:
    """Counters in Redis (``redis://host:6379/0``, keys under ``{prefix}``), shared by every machine; each counter
    expires with its window."""

    def __init__(self, url: str, *, prefix: str = "quota") -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("the Redis quota store needs redis-py: pip install 'plumego[redis]'") from exc
        if not prefix or "}" in prefix or "{" in prefix:
            raise ValueError("prefix must be non-empty and may not contain braces")
        self._r: Any = aioredis.Redis.from_url(url)
        self._p = "{" + prefix + "}"
        self._reserve = self._r.register_script(_RESERVE)
        self._refund = self._r.register_script(_REFUND)

    async def reserve(self, counters: Sequence[Counter], now: float) -> int:
        args: list[Any] = []
        for _, limit, end in counters:
            args += [limit, int(end * 1000)]
        return int(await self._reserve(keys=[f"{self._p}:{key}" for key, _, _ in counters], args=args))

    async def refund(self, counters: Sequence[Counter], now: float) -> None:
        await self._refund(keys=[f"{self._p}:{key}" for key, _, _ in counters], args=[])

    async def close(self) -> None:
        await self._r.aclose()
