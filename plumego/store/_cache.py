"""Cache contract and the in-memory LRU cache with TTL.

Unlike Go Plumego's MemoryCache, which refuses writes with ErrCacheFull once its memory bound is hit, this cache
never refuses a write: it evicts the least recently used entries until the new one fits. Imports only the
standard library and plumego.contract.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from plumego.contract import parse_int

from ._errors import NotIntegerError, StoreClosedError, ValueTooLargeError
from ._keys import validate_key

__all__ = ["Cache", "CacheStats", "MemoryCache"]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


@runtime_checkable
class Cache(Protocol):
    """What a cache backend provides. Async so that a Redis backend (x/data) drops in unchanged.

    ``ttl`` is in seconds. ``None``, ``0`` or less mean the backend's default TTL (Go Plumego: ttl <= 0 means
    DefaultTTL), and "never expires" when the backend has no default; ``math.inf`` never expires. Values are
    bytes; a miss returns ``None``.
    """

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def delete(self, key: str) -> bool: ...

    async def exists(self, key: str) -> bool: ...

    async def incr(self, key: str, delta: int = 1) -> int: ...

    async def clear(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters since construction (or the last :meth:`MemoryCache.clear` for entries/bytes only)."""

    entries: int
    bytes: int
    hits: int
    misses: int
    evictions: int
    expirations: int
    max_entries: int
    max_bytes: int

    @property
    def hit_ratio(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float | None  # monotonic seconds; None = never
    size: int


class MemoryCache:
    """In-process LRU cache with per-entry TTL, bounded by entry count and/or bytes.

    * ``max_entries`` / ``max_bytes``: 0 means unbounded on that axis. An entry's size is
      ``len(key_utf8) + len(value) + ENTRY_OVERHEAD``. When a write would exceed a bound, least recently used
      entries are evicted (expired ones count as expirations, live ones as evictions) — writes are never refused,
      except a single entry larger than ``max_bytes``, which raises :class:`ValueTooLargeError`.
    * Expired entries are dropped lazily on access and on eviction; :meth:`purge_expired` sweeps them all.
      No background task runs, so construction needs no event loop and no thread.
    * Thread-safe (one lock); the async methods never block on I/O, so they are safe on the event loop.
    """

    ENTRY_OVERHEAD = 64

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("max_entries and max_bytes must be >= 0 (0 = unbounded)")
        if default_ttl is not None and default_ttl < 0:
            raise ValueError("default_ttl must be >= 0 or None")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._default_ttl = default_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._expirations = 0
        self._closed = False

    # -- the async contract -------------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return self.get_sync(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.set_sync(key, value, ttl)

    async def delete(self, key: str) -> bool:
        return self.delete_sync(key)

    async def exists(self, key: str) -> bool:
        return self.exists_sync(key)

    async def incr(self, key: str, delta: int = 1) -> int:
        return self.incr_sync(key, delta)

    async def clear(self) -> None:
        self.clear_sync()

    # -- synchronous twins (never block on I/O; for sync handlers running in threads) -------------------------------

    def get_sync(self, key: str) -> bytes | None:
        validate_key(key)
        with self._lock:
            self._check_open()
            entry = self._live_entry(key)
            if entry is None:
                self._misses += 1
                return None
            self._data.move_to_end(key)
            self._hits += 1
            return entry.value

    def exists_sync(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            self._check_open()
            return self._live_entry(key) is not None

    def set_sync(self, key: str, value: bytes, ttl: float | None = None) -> None:
        encoded = validate_key(key)
        value = bytes(value)
        size = len(encoded) + len(value) + self.ENTRY_OVERHEAD
        if self._max_bytes and size > self._max_bytes:
            raise ValueTooLargeError(f"entry of {size} bytes exceeds max_bytes={self._max_bytes}")
        with self._lock:
            self._check_open()
            self._put(key, _Entry(value, self._expiry(ttl), size))

    def delete_sync(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            self._check_open()
            live = self._live_entry(key) is not None
            self._remove(key)
            return live

    def incr_sync(self, key: str, delta: int = 1) -> int:
        """Add ``delta`` to a decimal integer value (missing = 0), keeping the entry's expiry."""
        encoded = validate_key(key)
        with self._lock:
            self._check_open()
            entry = self._live_entry(key)
            current = 0
            expires_at = self._expiry(None)
            if entry is not None:
                expires_at = entry.expires_at
                try:
                    # ASCII digits only, as Redis INCR: int() would also take " 5", "+5", "1_0" and "٥".
                    current = parse_int(entry.value)
                except ValueError as exc:
                    raise NotIntegerError(f"value at {key!r} is not an integer") from exc
            result = current + delta
            if not _INT64_MIN <= result <= _INT64_MAX:
                raise NotIntegerError("increment overflows a 64-bit integer")
            value = str(result).encode("ascii")
            self._put(key, _Entry(value, expires_at, len(encoded) + len(value) + self.ENTRY_OVERHEAD))
            return result

    def clear_sync(self) -> None:
        with self._lock:
            self._check_open()
            self._data.clear()
            self._bytes = 0

    def purge_expired(self) -> int:
        """Drop every expired entry now; returns how many were dropped. O(entries)."""
        with self._lock:
            now = self._clock()
            dead = [k for k, e in self._data.items() if e.expires_at is not None and e.expires_at <= now]
            for k in dead:
                self._remove(k)
            self._expirations += len(dead)
            return len(dead)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                entries=len(self._data),
                bytes=self._bytes,
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                expirations=self._expirations,
                max_entries=self._max_entries,
                max_bytes=self._max_bytes,
            )

    def keys(self) -> list[str]:
        """Live keys from least to most recently used (a snapshot; for tests and diagnostics)."""
        with self._lock:
            now = self._clock()
            return [k for k, e in self._data.items() if e.expires_at is None or e.expires_at > now]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._data.clear()
            self._bytes = 0

    # -- internals (lock held) ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("cache is closed")

    def _expiry(self, ttl: float | None) -> float | None:
        if ttl is not None and ttl != ttl:
            raise ValueError("ttl must be a number, not NaN")
        if ttl is None or ttl <= 0:  # Go: ttl <= 0 means the default TTL
            ttl = self._default_ttl
        if ttl is None or ttl <= 0:
            return None
        return self._clock() + ttl

    def _live_entry(self, key: str) -> _Entry | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.expires_at is not None and entry.expires_at <= self._clock():
            self._remove(key)
            self._expirations += 1
            return None
        return entry

    def _remove(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def _put(self, key: str, entry: _Entry) -> None:
        self._remove(key)
        self._data[key] = entry
        self._bytes += entry.size
        now = self._clock()
        while (self._max_entries and len(self._data) > self._max_entries) or (
            self._max_bytes and self._bytes > self._max_bytes
        ):
            victim_key, victim = next(iter(self._data.items()))
            if victim_key == key:  # cannot happen: the new entry is most recent and fits on its own
                break
            self._remove(victim_key)
            if victim.expires_at is not None and victim.expires_at <= now:
                self._expirations += 1
            else:
                self._evictions += 1
