"""Quota and rate-limit state on Redis: each operation is one Lua script, atomic across every worker and machine.

Owns the Redis backend of :class:`TenantStateStore` (redis-py asyncio). Keys are
``{ns}:q:<tenant>:<window>`` (a hash: window start, requests, tokens; expires one window length after its last
write, since Redis's clock need not be the caller's),
``{ns}:s:<tenant>`` (a sorted set of sliding-window entries scored by time) and ``{ns}:b:<tenant>`` (a token
bucket hash). The namespace is a hash tag, so a multi-window reservation touches one cluster slot. Times come
from the caller's clock (so tests can drive them); hosts that share a Redis need synchronized clocks (NTP).
A connection error or timeout raises :class:`StateUnavailableError`: callers fail closed.
Install with ``pip install 'plumego[redis]'``. Imports the standard library and redis.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis tenant state store needs redis-py: pip install 'plumego[redis]'") from exc

from ._core import StateUnavailableError, is_valid_tenant_id
from ._state import (
    BucketResult,
    Reservation,
    SlidingResult,
    StateCapabilities,
    WindowSpec,
    WindowUsage,
    check_amounts,
)

__all__ = ["RedisStateStore"]

T = TypeVar("T")

# KEYS: one hash per window. ARGV: requests, tokens, then (name, start, ends, max_requests, max_tokens) per window.
_RESERVE = """
local req, tok = tonumber(ARGV[1]), tonumber(ARGV[2])
local used = {}
local blocked = ''
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 5
  local start = ARGV[base + 2]
  local maxr, maxt = tonumber(ARGV[base + 4]), tonumber(ARGV[base + 5])
  local cur = redis.call('HMGET', key, 'start', 'r', 't')
  local r, t = 0, 0
  if cur[1] == start then r, t = tonumber(cur[2]), tonumber(cur[3]) end
  used[i] = {r, t}
  if blocked == '' and ((maxr > 0 and r + req > maxr) or (maxt > 0 and t + tok > maxt)) then
    blocked = ARGV[base + 1]
  end
end
local out = {blocked}
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 5
  local r, t = used[i][1], used[i][2]
  if blocked == '' then
    r, t = r + req, t + tok
    redis.call('HSET', key, 'start', ARGV[base + 2], 'r', r, 't', t)
    redis.call('PEXPIRE', key, (tonumber(ARGV[base + 3]) - tonumber(ARGV[base + 2]) + 1) * 1000)
  end
  table.insert(out, r)
  table.insert(out, t)
end
return out
"""

_RELEASE = """
local req, tok = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local cur = redis.call('HMGET', key, 'start', 'r', 't')
  if cur[1] == ARGV[2 + i] then
    redis.call('HSET', key, 'r', math.max(0, tonumber(cur[2]) - req), 't', math.max(0, tonumber(cur[3]) - tok))
  end
end
return 1
"""

# KEYS[1]: sorted set of "requests:tokens:nonce" scored by time. ARGV: now, window, req, tok, maxr, maxt, nonce.
_SLIDING = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local req, tok, maxr, maxt = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - window))
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local r, t, oldest = 0, 0, ''
for i = 1, #members, 2 do
  local a, b = string.match(members[i], '^(%d+):(%d+):')
  r, t = r + tonumber(a), t + tonumber(b)
  if oldest == '' then oldest = members[i + 1] end
end
if (maxr > 0 and r + req > maxr) or (maxt > 0 and t + tok > maxt) then
  return {0, r, t, oldest}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3] .. ':' .. ARGV[4] .. ':' .. ARGV[7])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
if oldest == '' then oldest = ARGV[1] end
return {1, r + req, t + tok, oldest}
"""

# KEYS[1]: bucket hash. ARGV: now, rate, capacity, cost.
_TAKE = """
local now, rate, cap, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cur = redis.call('HMGET', KEYS[1], 'tokens', 'last', 'cap')
local level, last = cap, now
if cur[1] then
  level, last = tonumber(cur[1]), tonumber(cur[2])
  if tonumber(cur[3]) ~= cap then level = math.min(level, cap) end
  level = math.min(cap, level + math.max(0, now - last) * rate)
  last = math.max(last, now)
end
local allowed = 0
if level >= cost then level = level - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(level), 'last', tostring(last), 'cap', tostring(cap))
local ttl = 60000
if rate > 0 then ttl = math.ceil(cap / rate * 1000) + 60000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, tostring(level)}
"""


def split_state_url(url: str) -> tuple[str, str]:
    """``redis://host:6379/0?prefix=NS`` -> (URL without ``prefix``, namespace; default ``tenant``)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in params if k == "prefix"), "tenant")
    if not is_valid_tenant_id(prefix):
        raise ValueError("prefix must be 1-255 characters of [A-Za-z0-9._-]")
    rest = [(k, v) for k, v in params if k != "prefix"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment)), prefix


class RedisStateStore:
    """Open with ``RedisStateStore.from_url("redis://host:6379/0?prefix=app")``; close with ``await close()``."""

    capabilities = StateCapabilities(shared=True)

    def __init__(self, client: aioredis.Redis, namespace: str) -> None:
        self._client = client
        self._ns = "{" + namespace + "}"
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)
        self._sliding = client.register_script(_SLIDING)
        self._take = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> RedisStateStore:
        conn_url, namespace = split_state_url(url)
        client = aioredis.Redis.from_url(conn_url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, namespace)

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except (RedisError, OSError) as exc:
            raise StateUnavailableError(f"redis state store: {exc}") from exc

    def _window_key(self, key: str, name: str) -> str:
        return f"{self._ns}:q:{key}:{name}"

    async def reserve(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> Reservation:
        check_amounts(requests, tokens)
        if not windows:
            return Reservation(True, ())
        args: list[Any] = [requests, tokens]
        for w in windows:
            args += [w.name, w.start, w.end, w.max_requests, w.max_tokens]
        raw = await self._call(lambda: self._reserve(keys=[self._window_key(key, w.name) for w in windows],
                                                     args=args))
        blocked = raw[0].decode() if isinstance(raw[0], bytes) else str(raw[0])
        usage = tuple(WindowUsage(w.name, int(raw[1 + 2 * i]), int(raw[2 + 2 * i])) for i, w in enumerate(windows))
        return Reservation(not blocked, usage, blocked)

    async def release(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> None:
        check_amounts(requests, tokens)
        if windows:
            await self._call(lambda: self._release(keys=[self._window_key(key, w.name) for w in windows],
                                                   args=[requests, tokens, *(w.start for w in windows)]))

    async def usage(self, key: str, windows: Sequence[WindowSpec]) -> tuple[WindowUsage, ...]:
        async def read() -> tuple[WindowUsage, ...]:
            out = []
            for w in windows:
                start, r, t = await self._client.hmget(self._window_key(key, w.name), ["start", "r", "t"])
                same = start is not None and r is not None and t is not None and int(start) == w.start
                out.append(WindowUsage(w.name, int(r or 0) if same else 0, int(t or 0) if same else 0))
            return tuple(out)
        return await self._call(read)

    async def reserve_sliding(self, key: str, now: float, window: float, requests: int, tokens: int,
                              max_requests: int, max_tokens: int) -> SlidingResult:
        check_amounts(requests, tokens)
        raw = await self._call(lambda: self._sliding(
            keys=[f"{self._ns}:s:{key}"],
            args=[repr(now), repr(window), requests, tokens, max_requests, max_tokens, uuid.uuid4().hex]))
        oldest = raw[3].decode() if isinstance(raw[3], bytes) else str(raw[3])
        return SlidingResult(bool(raw[0]), int(raw[1]), int(raw[2]), float(oldest) if oldest else 0.0)

    async def take(self, key: str, now: float, rate: float, capacity: float, cost: float) -> BucketResult:
        raw = await self._call(lambda: self._take(keys=[f"{self._ns}:b:{key}"],
                                                  args=[repr(now), repr(rate), repr(capacity), repr(cost)]))
        level = float(raw[1])
        if raw[0]:
            return BucketResult(True, level, 0.0)
        return BucketResult(False, level, (cost - level) / rate if rate > 0 else math.inf)

    async def reset(self, key: str) -> None:
        async def drop() -> None:
            names = [k async for k in self._client.scan_iter(match=f"{self._ns}:q:{key}:*", count=500)]
            names += [f"{self._ns}:s:{key}", f"{self._ns}:b:{key}"]
            await self._client.delete(*names)
        await self._call(drop)

    async def close(self) -> None:
        await self._client.aclose()
