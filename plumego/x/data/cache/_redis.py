"""The stable ``Cache`` protocol on Redis (Go's ``redis.Adapter``, over redis-py instead of a caller's client).

Owns :class:`RedisCache`: values under ``<prefix>``, ``incr`` with INCRBY (a non-integer or an overflow raises
the stable ``NotIntegerError``), and ``clear`` that fails closed: it deletes only the prefix's keys (SCAN with
glob characters escaped, then UNLINK), and flushes the whole database only when explicitly allowed. Install with
``pip install 'plumego[data]'``; redis-py is imported when a cache is opened. Imports the standard library,
plumego.store and, lazily, redis.
"""

from __future__ import annotations

import math
import re
from typing import Any

from plumego.store import NotIntegerError, validate_key

from .._redis import connect_redis

__all__ = ["CacheClearRefused", "RedisCache"]

_GLOB = re.compile(r"([*?\[\]\\])")


class CacheClearRefused(RuntimeError):
    """``clear`` without a prefix would flush the whole Redis database; pass ``allow_flush_db=True`` to mean it."""


class RedisCache:
    """Open with ``await RedisCache.open("redis://host:6379/0?prefix=app:cache:")``."""

    def __init__(self, client: Any, *, prefix: str = "", default_ttl: float | None = None,
                 allow_flush_db: bool = False) -> None:
        if default_ttl is not None and default_ttl < 0:
            raise ValueError("default_ttl must be >= 0 or None")
        self._client = client
        self.prefix = prefix
        self._default_ttl = default_ttl
        self._allow_flush_db = allow_flush_db

    @classmethod
    async def open(cls, url: str, *, default_ttl: float | None = None, allow_flush_db: bool = False) -> RedisCache:
        client, prefix = await connect_redis(url, what="the Redis cache", default_prefix="")
        return cls(client, prefix=prefix, default_ttl=default_ttl, allow_flush_db=allow_flush_db)

    def _px(self, ttl: float | None) -> int | None:
        if ttl is None or ttl <= 0:
            ttl = self._default_ttl
        if ttl is None or ttl <= 0 or math.isinf(ttl):
            return None
        return max(1, int(ttl * 1000))

    def _key(self, key: str) -> str:
        validate_key(key)
        return self.prefix + key

    async def get(self, key: str) -> bytes | None:
        value = await self._client.get(self._key(key))
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError("cache values are bytes")
        await self._client.set(self._key(key), bytes(value), px=self._px(ttl))

    async def delete(self, key: str) -> bool:
        return int(await self._client.delete(self._key(key))) > 0

    async def exists(self, key: str) -> bool:
        return int(await self._client.exists(self._key(key))) > 0

    async def incr(self, key: str, delta: int = 1) -> int:
        from redis.exceptions import ResponseError

        try:
            return int(await self._client.incrby(self._key(key), delta))
        except ResponseError as exc:
            raise NotIntegerError(f"value at {key!r} is not an integer or the increment overflows") from exc

    async def clear(self) -> None:
        if not self.prefix:
            if not self._allow_flush_db:
                raise CacheClearRefused("clear() without a prefix would flush the whole Redis database")
            await self._client.flushdb()
            return
        pattern = _GLOB.sub(r"\\\1", self.prefix) + "*"
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await self._client.unlink(*batch)
                batch.clear()
        if batch:
            await self._client.unlink(*batch)

    async def close(self) -> None:
        await self._client.aclose()
