"""The stable ``KVStore`` protocol on Redis, for state that several machines share.

Owns :class:`RedisKVStore`. Each entry is a hash (value, expiry) plus a member of one sorted set that orders the
keys, so ``keys``/``scan`` return code-point order with a literal prefix (a lexicographic range on UTF-8 bytes,
never a glob) as SQLite does. Expiry is decided by the caller's clock, like the SQLite store, and Redis also
drops an entry a minute after it expired. ``set_many`` is one MULTI/EXEC (no reader sees half of it);
``set_if_absent`` one Lua script. ``count`` walks the index (O(n)) and prunes entries Redis has dropped.
Install with ``pip install 'plumego[data]'``; redis-py is imported when a store is opened. Imports the standard
library, plumego.store and, lazily, redis. (Go's kvengine is a home-made WAL engine; we use the real engines.)
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping
from typing import Any

from plumego.store import ValueTooLargeError, prefix_upper_bound, validate_key

from .._redis import connect_redis

__all__ = ["RedisKVStore"]

_GRACE_MS = 60_000
_BATCH = 500

# KEYS[1] entry, KEYS[2] index; ARGV: member, value, expires_at ('' = never), now, pexpire ms (0 = none)
_SET_IF_ABSENT = """
local e = redis.call('HGET', KEYS[1], 'e')
if e and (e == '' or tonumber(e) > tonumber(ARGV[4])) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3])
if tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
"""


class RedisKVStore:
    """Open with ``await RedisKVStore.open("redis://host:6379/0?prefix=NS")``; keys live under ``{NS}:kv:``."""

    def __init__(self, client: Any, prefix: str, *, clock: Callable[[], float] = time.time,
                 max_value_bytes: int = 16 * 1024 * 1024) -> None:
        self._client = client
        self._ns = "{" + prefix + "}:kv:"
        self._index = "{" + prefix + "}:kvindex"
        self._clock = clock
        self._max_value_bytes = max_value_bytes
        self._set_if_absent = client.register_script(_SET_IF_ABSENT)

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> RedisKVStore:
        client, prefix = await connect_redis(url, what="the Redis KV store")
        return cls(client, prefix, clock=clock)

    # -- helpers ------------------------------------------------------------------------------------------------

    def _checked(self, key: str, value: bytes) -> bytes:
        validate_key(key)
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError("KV values are bytes")
        blob = bytes(value)
        if len(blob) > self._max_value_bytes:
            raise ValueTooLargeError(f"value of {len(blob)} bytes exceeds max_value_bytes={self._max_value_bytes}")
        return blob

    def _expiry(self, now: float, ttl: float | None) -> tuple[str, int]:
        if ttl is None or ttl <= 0:
            return "", 0
        return repr(now + ttl), int(ttl * 1000) + _GRACE_MS

    @staticmethod
    def _live(expires: bytes | None, now: float) -> bool:
        return expires is not None and (expires == b"" or float(expires) > now)

    # -- KVStore ------------------------------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        validate_key(key)
        value, expires = await self._client.hmget(self._ns + key, ["v", "e"])
        return bytes(value) if self._live(expires, self._clock()) else None

    async def exists(self, key: str) -> bool:
        validate_key(key)
        return self._live(await self._client.hget(self._ns + key, "e"), self._clock())

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self.set_many({key: value}, ttl)

    async def set_many(self, items: Mapping[str, bytes], ttl: float | None = None) -> None:
        checked = {key: self._checked(key, value) for key, value in items.items()}
        if not checked:
            return
        expires, pexpire = self._expiry(self._clock(), ttl)
        async with self._client.pipeline(transaction=True) as pipe:
            for key, blob in checked.items():
                pipe.delete(self._ns + key)
                pipe.hset(self._ns + key, mapping={"v": blob, "e": expires})
                if pexpire:
                    pipe.pexpire(self._ns + key, pexpire)
            pipe.zadd(self._index, {key.encode(): 0 for key in checked})
            await pipe.execute()

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        blob = self._checked(key, value)
        now = self._clock()
        expires, pexpire = self._expiry(now, ttl)
        done = await self._set_if_absent(keys=[self._ns + key, self._index],
                                         args=[key.encode(), blob, expires, repr(now), pexpire])
        return bool(done)

    async def delete(self, key: str) -> bool:
        validate_key(key)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hget(self._ns + key, "e")
            pipe.delete(self._ns + key)
            pipe.zrem(self._index, key.encode())
            expires, _, _ = await pipe.execute()
        return self._live(expires, self._clock())

    async def _walk(self, prefix: str, limit: int | None, with_values: bool) -> builtins.list[tuple[str, bytes]]:
        if prefix:
            validate_key(prefix)
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        low = b"[" + prefix.encode() if prefix else b"-"
        upper = prefix_upper_bound(prefix) if prefix else None
        high = b"(" + upper.encode() if upper is not None else b"+"
        found: builtins.list[tuple[str, bytes]] = []
        offset = 0
        now = self._clock()
        while limit is None or len(found) < limit:
            members = await self._client.zrangebylex(self._index, low, high, start=offset, num=_BATCH)
            if not members:
                break
            offset += len(members)
            async with self._client.pipeline(transaction=False) as pipe:
                for member in members:
                    pipe.hmget(self._ns + member.decode(), ["v", "e"])
                rows = await pipe.execute()
            stale = []
            for member, (value, expires) in zip(members, rows):
                if value is None:
                    stale.append(member)
                elif self._live(expires, now):
                    found.append((member.decode(), bytes(value) if with_values else b""))
            if stale:       # Redis dropped them; keep the index small
                await self._client.zrem(self._index, *stale)
                offset -= len(stale)
        return found if limit is None else found[:limit]

    async def keys(self, prefix: str = "", limit: int | None = None) -> builtins.list[str]:
        return [k for k, _ in await self._walk(prefix, limit, False)]

    async def scan(self, prefix: str = "", limit: int | None = None) -> builtins.list[tuple[str, bytes]]:
        return await self._walk(prefix, limit, True)

    async def count(self) -> int:
        return len(await self._walk("", None, False))

    async def close(self) -> None:
        await self._client.aclose()
