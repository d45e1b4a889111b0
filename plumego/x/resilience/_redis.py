"""The keyed token-bucket limiter on Redis: N workers and instances share one budget per key.

Owns :class:`RedisKeyedLimiter`. Each take is one Lua script (refill, take, store, expire) run atomically by
Redis on Redis's own clock (``TIME``), so workers with skewed clocks still agree. A bucket's key expires once it
would be full again, so idle keys cost nothing. Keys are ``{prefix}:<key>``.
Install with ``pip install 'plumego[redis]'``. Imports the standard library and redis-py; never plumego.core.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis rate limiter needs redis-py: pip install 'plumego[redis]'") from exc

from ._bucket import Decision, RateLimitTimeout, _check

__all__ = ["RedisKeyedLimiter"]

# KEYS[1] the bucket hash; ARGV rate (tokens/s), burst, n, ttl (ms). Time is kept in integer microseconds.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(h[1]), tonumber(h[2])
if tokens == nil or at == nil then tokens = burst; at = now end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
  at = now
end
if tokens > burst then tokens = burst end
local allowed, wait = 0, 0
if tokens >= n then
  tokens = tokens - n
  allowed = 1
elseif n > burst then
  wait = -1
else
  wait = (n - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%d', at))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {allowed, string.format('%.6f', tokens), string.format('%.6f', wait)}
"""


def _split_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in params if k == "prefix"), "plumego:ratelimit")
    rest = [(k, v) for k, v in params if k != "prefix"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment)), prefix


class RedisKeyedLimiter:
    """A :class:`KeyedLimiter` whose buckets live in Redis. ``await RedisKeyedLimiter.open(url, rate, burst)``.

    ``rate`` and ``burst`` travel with every call, so every worker must be configured alike (:meth:`update_rate`
    changes this process only; roll a new rate out to all workers). Close with :meth:`close`.
    """

    def __init__(self, client: Any, rate: float, burst: int, *, prefix: str = "plumego:ratelimit",
                 owns_client: bool = False) -> None:
        _check(rate, burst)
        if not prefix or any(c in prefix for c in "{}\r\n"):
            raise ValueError(f"prefix must be a non-empty string without braces or newlines, got {prefix!r}")
        self._client = client
        self._rate, self._burst = float(rate), burst
        self._prefix = "{" + prefix + "}:"
        self._owns = owns_client
        self._script = client.register_script(_TAKE)

    @classmethod
    async def open(cls, url: str, rate: float, burst: int) -> RedisKeyedLimiter:
        """``redis://host:6379/0?prefix=api`` (``prefix`` namespaces the keys; default ``plumego:ratelimit``)."""
        base, prefix = _split_url(url)
        client = aioredis.Redis.from_url(base)
        try:
            await client.ping()
        except Exception:
            await client.aclose()
            raise
        return cls(client, rate, burst, prefix=prefix, owns_client=True)

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def _ttl_ms(self) -> int:
        return math.ceil(self._burst / self._rate * 1000) + 1000

    async def take(self, key: str, n: int = 1) -> Decision:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n!r}")
        allowed, tokens, wait = await self._script(keys=[self._prefix + key],
                                                   args=[repr(self._rate), self._burst, n, self._ttl_ms()])
        retry = float(wait)
        return Decision(bool(int(allowed)), float(tokens), math.inf if retry < 0 else retry, self._burst)

    async def allow(self, key: str, n: int = 1) -> bool:
        return (await self.take(key, n)).allowed

    async def wait(self, key: str, n: int = 1, *, timeout: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            decision = await self.take(key, n)
            if decision.allowed:
                return
            if math.isinf(decision.retry_after):
                raise RateLimitTimeout(f"{n} tokens can never fit in a bucket of {self._burst}")
            if deadline is not None and loop.time() + decision.retry_after > deadline:
                raise RateLimitTimeout(f"{n} tokens are not available within {timeout}s")
            await asyncio.sleep(decision.retry_after)

    async def delete(self, key: str) -> None:
        await self._client.delete(self._prefix + key)

    def update_rate(self, rate: float, burst: int | None = None) -> None:
        burst = self._burst if burst is None else burst
        _check(rate, burst)
        self._rate, self._burst = float(rate), burst

    async def close(self) -> None:
        if self._owns:
            await self._client.aclose()
