"""Leaderboards: Redis sorted sets for many processes, an in-memory board for one (Go's ``cache/leaderboard``).

Owns the :class:`Leaderboard` protocol, :class:`MemoryLeaderboard` (per process: a sorted list, bounded to
``max_members``, dropping the lowest) and :class:`RedisLeaderboard` (ZADD/ZINCRBY/ZREVRANK/ZREVRANGE; every worker
and machine sees one board; the board expires ``ttl`` seconds after its last write, 1 h by default as in Go).
Both order by score descending, then member descending (Redis's ZREVRANGE order), so they answer identically.
Imports the standard library; redis-py when a Redis board is opened.
"""

from __future__ import annotations

import bisect
import builtins
import math
import threading
from typing import Any, Protocol, runtime_checkable

from .._redis import connect_redis

__all__ = ["Leaderboard", "MemoryLeaderboard", "RedisLeaderboard", "open_leaderboard"]

DEFAULT_TTL = 3600.0
DEFAULT_MAX_MEMBERS = 10_000


@runtime_checkable
class Leaderboard(Protocol):
    """Ranks are 0-based from the top. ``top``/``around`` return ``(member, score)`` pairs."""

    async def add(self, member: str, score: float) -> None: ...

    async def incr(self, member: str, delta: float) -> float: ...

    async def score(self, member: str) -> float | None: ...

    async def rank(self, member: str) -> int | None: ...

    async def top(self, n: int) -> builtins.list[tuple[str, float]]: ...

    async def around(self, member: str, n: int) -> builtins.list[tuple[str, float]]: ...

    async def remove(self, member: str) -> bool: ...

    async def size(self) -> int: ...


def _check(member: str, score: float | None = None) -> None:
    if not isinstance(member, str) or not member or len(member.encode()) > 1024:
        raise ValueError("a member is a non-empty string of at most 1024 bytes")
    if score is not None and (not isinstance(score, (int, float)) or math.isnan(score)):
        raise ValueError("a score is a number, not NaN")


class MemoryLeaderboard:
    """One process only. Past ``max_members`` the lowest entries are dropped."""

    def __init__(self, *, max_members: int = DEFAULT_MAX_MEMBERS) -> None:
        if max_members < 1:
            raise ValueError("max_members must be >= 1")
        self._max = max_members
        self._scores: dict[str, float] = {}
        self._order: list[tuple[float, str]] = []      # ascending; reversed = Redis's ZREVRANGE order
        self._lock = threading.Lock()

    def _put(self, member: str, score: float) -> None:
        old = self._scores.get(member)
        if old is not None:
            del self._order[bisect.bisect_left(self._order, (old, member))]
        self._scores[member] = score
        bisect.insort(self._order, (score, member))
        while len(self._order) > self._max:
            _, dropped = self._order.pop(0)
            del self._scores[dropped]

    async def add(self, member: str, score: float) -> None:
        _check(member, score)
        with self._lock:
            self._put(member, float(score))

    async def incr(self, member: str, delta: float) -> float:
        _check(member, delta)
        with self._lock:
            value = self._scores.get(member, 0.0) + delta
            self._put(member, value)
            return value

    async def score(self, member: str) -> float | None:
        return self._scores.get(member)

    def _rank(self, member: str) -> int | None:
        score = self._scores.get(member)
        if score is None:
            return None
        return len(self._order) - 1 - bisect.bisect_left(self._order, (score, member))

    async def rank(self, member: str) -> int | None:
        with self._lock:
            return self._rank(member)

    def _slice(self, start: int, stop: int) -> builtins.list[tuple[str, float]]:
        n = len(self._order)
        return [(m, s) for s, m in reversed(self._order[max(0, n - stop):max(0, n - start)])]

    async def top(self, n: int) -> builtins.list[tuple[str, float]]:
        with self._lock:
            return self._slice(0, max(0, n))

    async def around(self, member: str, n: int) -> builtins.list[tuple[str, float]]:
        with self._lock:
            rank = self._rank(member)
            if rank is None:
                return []
            return self._slice(max(0, rank - n), rank + n + 1)

    async def remove(self, member: str) -> bool:
        with self._lock:
            score = self._scores.pop(member, None)
            if score is None:
                return False
            del self._order[bisect.bisect_left(self._order, (score, member))]
            return True

    async def size(self) -> int:
        return len(self._scores)


class RedisLeaderboard:
    """One sorted set, ``{prefix}:board:<name>``. Open with ``await RedisLeaderboard.open(url, name)``."""

    def __init__(self, client: Any, key: str, *, ttl: float = DEFAULT_TTL) -> None:
        self._client = client
        self._key = key
        self._ttl_ms = int(ttl * 1000) if ttl > 0 else 0

    @classmethod
    async def open(cls, url: str, name: str, *, ttl: float = DEFAULT_TTL) -> RedisLeaderboard:
        client, prefix = await connect_redis(url, what="the Redis leaderboard")
        return cls(client, "{" + prefix + "}:board:" + name, ttl=ttl)

    def _touch(self, pipe: Any) -> None:
        if self._ttl_ms:
            pipe.pexpire(self._key, self._ttl_ms)

    async def add(self, member: str, score: float) -> None:
        _check(member, score)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key, {member.encode(): float(score)})
            self._touch(pipe)
            await pipe.execute()

    async def incr(self, member: str, delta: float) -> float:
        _check(member, delta)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zincrby(self._key, float(delta), member.encode())
            self._touch(pipe)
            value, *_ = await pipe.execute()
        return float(value)

    async def score(self, member: str) -> float | None:
        value = await self._client.zscore(self._key, member.encode())
        return None if value is None else float(value)

    async def rank(self, member: str) -> int | None:
        value = await self._client.zrevrank(self._key, member.encode())
        return None if value is None else int(value)

    async def _range(self, start: int, stop: int) -> builtins.list[tuple[str, float]]:
        if stop < start:
            return []
        rows = await self._client.zrevrange(self._key, start, stop, withscores=True)
        return [(m.decode(), float(s)) for m, s in rows]

    async def top(self, n: int) -> builtins.list[tuple[str, float]]:
        return await self._range(0, n - 1) if n > 0 else []

    async def around(self, member: str, n: int) -> builtins.list[tuple[str, float]]:
        rank = await self.rank(member)
        if rank is None:
            return []
        return await self._range(max(0, rank - n), rank + n)

    async def remove(self, member: str) -> bool:
        return int(await self._client.zrem(self._key, member.encode())) > 0

    async def size(self) -> int:
        return int(await self._client.zcard(self._key))

    async def close(self) -> None:
        await self._client.aclose()


async def open_leaderboard(url: str, name: str, *, ttl: float = DEFAULT_TTL,
                           max_members: int = DEFAULT_MAX_MEMBERS) -> Leaderboard:
    """``""`` or ``memory://`` -> :class:`MemoryLeaderboard` (one process); ``redis://...?prefix=NS`` -> Redis."""
    if not url or url.startswith("memory:"):
        return MemoryLeaderboard(max_members=max_members)
    if url.startswith(("redis://", "rediss://")):
        return await RedisLeaderboard.open(url, name, ttl=ttl)
    raise ValueError("a leaderboard URL is empty, memory:// or redis://...")
