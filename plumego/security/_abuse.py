"""Abuse guard: per-key token buckets, sharded, with bounded memory and idle eviction.

Go Plumego's limiter with the same defaults (rate 100/s, capacity 200, 100 000 keys, 5 min idle, 16 shards) and
the same decision fields. Each shard keeps its buckets in least-recently-used order, so idle eviction is exact and
costs O(evicted) on the request path: no background thread, nothing to stop. Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AbuseGuardConfig", "RateDecision", "AbuseGuardStats", "TokenBucketLimiter"]


@dataclass(frozen=True, slots=True)
class AbuseGuardConfig:
    """``rate``: tokens per second; ``capacity``: burst size (a new bucket starts full); ``max_entries``: most keys
    tracked (least recently seen evicted first); ``max_idle``: seconds after which an untouched bucket is dropped
    (it would be full again by then anyway if ``max_idle >= capacity / rate``); ``max_key_length``: a longer key
    is stored as its SHA-256 digest (64 characters), so neither the key count nor any key's size is the client's
    choice."""

    rate: float = 100.0
    capacity: float = 200.0
    max_entries: int = 100_000
    max_idle: float = 300.0
    shards: int = 16
    max_key_length: int = 128

    def __post_init__(self) -> None:
        rate_ok = self.rate > 0 and math.isfinite(self.rate)
        if not rate_ok or not (self.capacity >= 1 and math.isfinite(self.capacity)):
            raise ValueError("rate must be > 0 and capacity >= 1")
        if self.max_entries < 1 or self.shards < 1 or self.max_idle <= 0:
            raise ValueError("max_entries and shards must be >= 1 and max_idle > 0")
        if self.max_key_length < 64:
            raise ValueError("max_key_length must be >= 64 (a digest is 64 characters)")


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Outcome of one :meth:`TokenBucketLimiter.allow` call.

    ``limit``: the capacity; ``remaining``: whole tokens left; ``reset_after``: seconds until the bucket is full;
    ``retry_after``: seconds until the request could succeed (0 when allowed). Middleware turns these into
    ``X-RateLimit-*`` and ``Retry-After`` (ceil, at least 1) headers.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float


@dataclass(frozen=True, slots=True)
class AbuseGuardStats:
    allowed: int
    rejected: int
    evictions: int
    buckets: int


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class _Shard:
    __slots__ = ("lock", "buckets")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: OrderedDict[str, _Bucket] = OrderedDict()


class TokenBucketLimiter:
    """Thread-safe sharded token buckets. ``clock`` is monotonic seconds (injectable for tests)."""

    def __init__(self, config: AbuseGuardConfig | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or AbuseGuardConfig()
        self._clock = clock
        self._shards = [_Shard() for _ in range(self.config.shards)]
        self._per_shard = max(1, math.ceil(self.config.max_entries / self.config.shards))
        self._counter_lock = threading.Lock()
        self._allowed = 0
        self._rejected = 0
        self._evictions = 0

    def _shard(self, key: str) -> _Shard:
        return self._shards[zlib.crc32(key.encode("utf-8", "surrogatepass")) % len(self._shards)]

    def allow(self, key: str, cost: float = 1.0) -> RateDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it has them. An empty key is always denied."""
        cfg = self.config
        if cost <= 0 or not math.isfinite(cost):
            raise ValueError("cost must be a positive finite number")
        if not key:
            self._count(allowed=False)
            return RateDecision(False, int(cfg.capacity), 0, 0.0, math.inf)
        key = self._bounded(key)
        now = self._clock()
        shard = self._shard(key)
        evicted = 0
        with shard.lock:
            buckets = shard.buckets
            # Least recently touched first: drop idle buckets from the front until a fresh one shows up.
            while buckets:
                oldest_key, oldest = next(iter(buckets.items()))
                if now - oldest.updated <= cfg.max_idle:
                    break
                del buckets[oldest_key]
                evicted += 1
            bucket = buckets.get(key)
            if bucket is None:
                while len(buckets) >= self._per_shard:
                    buckets.popitem(last=False)
                    evicted += 1
                bucket = _Bucket(cfg.capacity, now)
                buckets[key] = bucket
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(cfg.capacity, bucket.tokens + elapsed * cfg.rate)
                bucket.updated = max(bucket.updated, now)
                buckets.move_to_end(key)
            allowed = bucket.tokens >= cost
            if allowed:
                bucket.tokens -= cost
            tokens = bucket.tokens
        self._count(allowed=allowed, evicted=evicted)
        retry_after = 0.0 if allowed else (math.inf if cost > cfg.capacity else (cost - tokens) / cfg.rate)
        return RateDecision(
            allowed=allowed,
            limit=int(cfg.capacity),
            remaining=max(0, math.floor(tokens)),
            reset_after=(cfg.capacity - tokens) / cfg.rate,
            retry_after=retry_after,
        )

    def _count(self, *, allowed: bool, evicted: int = 0) -> None:
        with self._counter_lock:
            if allowed:
                self._allowed += 1
            else:
                self._rejected += 1
            self._evictions += evicted

    def sweep(self) -> int:
        """Drop every idle bucket now (the request path already does this per shard); returns how many."""
        now = self._clock()
        dropped = 0
        for shard in self._shards:
            with shard.lock:
                while shard.buckets:
                    key, bucket = next(iter(shard.buckets.items()))
                    if now - bucket.updated <= self.config.max_idle:
                        break
                    del shard.buckets[key]
                    dropped += 1
        with self._counter_lock:
            self._evictions += dropped
        return dropped

    def _bounded(self, key: str) -> str:
        if len(key) <= self.config.max_key_length:
            return key
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def reset(self, key: str) -> None:
        """Forget ``key``'s bucket (its next request starts with a full bucket)."""
        key = self._bounded(key)
        shard = self._shard(key)
        with shard.lock:
            shard.buckets.pop(key, None)

    def stats(self) -> AbuseGuardStats:
        buckets = 0
        for shard in self._shards:
            with shard.lock:
                buckets += len(shard.buckets)
        with self._counter_lock:
            return AbuseGuardStats(self._allowed, self._rejected, self._evictions, buckets)
