"""Token buckets in process memory: :class:`TokenBucket` and :class:`KeyedBuckets` (Go ``x/resilience/ratelimit``).

Owns the refill arithmetic and the in-memory keyed limiter. The budget is per process: with several workers
each has its own; use :class:`~plumego.x.resilience.RedisKeyedLimiter` when N workers must share one budget.
Imports only the standard library.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "KeyedBuckets", "RateLimitTimeout", "TokenBucket"]


class RateLimitTimeout(TimeoutError):
    """``wait`` could not get its tokens within the timeout (or the request can never fit in the bucket)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of taking tokens: allowed or not, tokens left, seconds until the tokens asked for exist."""

    allowed: bool
    remaining: float
    retry_after: float
    limit: int


def _check(rate: float, burst: int) -> None:
    if not rate > 0 or math.isinf(rate):
        raise ValueError(f"rate must be a positive number of tokens per second, got {rate!r}")
    if burst < 1:
        raise ValueError(f"burst must be at least 1, got {burst!r}")


class TokenBucket:
    """``rate`` tokens per second refill a bucket of ``burst``; it starts full. Thread-safe."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        _check(rate, burst)
        self._rate = float(rate)
        self._burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(float(self._burst), self._tokens + (now - self._at) * self._rate)
        self._at = now

    def take(self, n: int = 1) -> Decision:
        """Take ``n`` tokens if they are there; the decision says how long until they would be."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n!r}")
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= n:
                self._tokens -= n
                return Decision(True, self._tokens, 0.0, self._burst)
            wait = math.inf if n > self._burst else (n - self._tokens) / self._rate
            return Decision(False, self._tokens, wait, self._burst)

    def allow(self) -> bool:
        return self.take(1).allowed

    def allow_n(self, n: int) -> bool:
        return self.take(n).allowed

    def remaining(self) -> float:
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    async def wait(self, n: int = 1, *, timeout: float | None = None) -> None:
        """Sleep until ``n`` tokens are taken; :class:`RateLimitTimeout` when that cannot happen within ``timeout``."""
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            decision = self.take(n)
            if decision.allowed:
                return
            if math.isinf(decision.retry_after):
                raise RateLimitTimeout(f"{n} tokens can never fit in a bucket of {self._burst}")
            if deadline is not None and self._clock() + decision.retry_after > deadline:
                raise RateLimitTimeout(f"{n} tokens are not available within {timeout}s")
            await asyncio.sleep(decision.retry_after)

    async def wait_n(self, n: int, *, timeout: float | None = None) -> None:
        await self.wait(n, timeout=timeout)

    def update_rate(self, rate: float, burst: int | None = None) -> None:
        """Change the refill rate (and the burst); tokens already earned are kept, capped at the new burst."""
        burst = self._burst if burst is None else burst
        _check(rate, burst)
        with self._lock:
            self._refill(self._clock())
            self._rate, self._burst = float(rate), burst
            self._tokens = min(self._tokens, float(burst))


class KeyedBuckets:
    """One :class:`TokenBucket` per key (client IP, user, API key), created on first use.

    At most ``max_keys`` buckets are kept; the least recently used is dropped first (it comes back full, which is
    the answer for a key idle long enough to be evicted). Per process: see the module docstring.
    """

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        _check(rate, burst)
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._rate, self._burst, self._max_keys, self._clock = float(rate), burst, max_keys, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def _bucket(self, key: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, clock=self._clock)
                while len(self._buckets) > self._max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
            return bucket

    def allow(self, key: str, n: int = 1) -> bool:
        return self._bucket(key).take(n).allowed

    async def take(self, key: str, n: int = 1) -> Decision:
        """The :class:`KeyedLimiter` form of :meth:`allow`, with the whole decision."""
        return self._bucket(key).take(n)

    async def wait(self, key: str, n: int = 1, *, timeout: float | None = None) -> None:
        await self._bucket(key).wait(n, timeout=timeout)

    async def delete(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)

    def update_rate(self, rate: float, burst: int | None = None) -> None:
        """Apply a new rate (and burst) to every existing bucket and to the ones created from now on."""
        burst = self._burst if burst is None else burst
        _check(rate, burst)
        with self._lock:
            self._rate, self._burst = float(rate), burst
            buckets = list(self._buckets.values())
        for bucket in buckets:
            bucket.update_rate(rate, burst)

    async def close(self) -> None:
        """Nothing to release; present so both limiters close the same way."""
