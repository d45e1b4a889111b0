"""Quota and rate-limit state: the :class:`TenantStateStore` protocol, its value types and the in-memory backend.

A store does three atomic things for a key (the tenant id): reserve a request against several fixed windows at
once (all or none), reserve against a sliding window, and take tokens from a token bucket (resized in place when
the configured capacity changes, keeping its tokens). The memory backend is per process: with uvicorn
``--workers N`` each worker would admit the whole quota, so use the SQLite (one machine) or Redis (many) backend
whenever more than one process serves the tenant. Imports only the standard library.
"""

from __future__ import annotations

import calendar
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from ._core import QuotaWindow

__all__ = [
    "BucketResult",
    "MemoryStateStore",
    "Reservation",
    "SlidingResult",
    "StateCapabilities",
    "TenantStateStore",
    "WindowSpec",
    "WindowUsage",
    "window_bounds",
]


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """One fixed window of a quota: ``[start, end)`` in Unix seconds, and its limits (0 or less: unlimited)."""

    name: str
    start: int
    end: int
    max_requests: int
    max_tokens: int


@dataclass(frozen=True, slots=True)
class WindowUsage:
    name: str
    requests: int
    tokens: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """``usage`` is after the reservation when allowed, the unchanged usage when not; ``blocked`` names the first
    window that refused."""

    allowed: bool
    usage: tuple[WindowUsage, ...]
    blocked: str = ""


@dataclass(frozen=True, slots=True)
class SlidingResult:
    allowed: bool
    requests: int
    tokens: int
    oldest: float       # timestamp of the oldest counted entry (0 when none): when the window starts to free up


@dataclass(frozen=True, slots=True)
class BucketResult:
    allowed: bool
    remaining: float
    retry_after: float


@dataclass(frozen=True, slots=True)
class StateCapabilities:
    shared: bool
    """True when every process that opens the same URL sees the same counters (SQLite file, Redis)."""


@runtime_checkable
class TenantStateStore(Protocol):
    """Quota and rate-limit state. Every method is atomic for its key, across every process that shares the store.
    Backend failures raise :class:`StateUnavailableError`; callers fail closed."""

    capabilities: StateCapabilities

    async def reserve(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> Reservation: ...

    async def release(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> None: ...

    async def usage(self, key: str, windows: Sequence[WindowSpec]) -> tuple[WindowUsage, ...]: ...

    async def reserve_sliding(self, key: str, now: float, window: float, requests: int, tokens: int,
                              max_requests: int, max_tokens: int) -> SlidingResult: ...

    async def take(self, key: str, now: float, rate: float, capacity: float, cost: float) -> BucketResult: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


def window_bounds(now: float, window: QuotaWindow) -> tuple[int, int]:
    """``[start, end)`` of the fixed window holding ``now`` (UTC; months start on the 1st)."""
    size = {QuotaWindow.MINUTE: 60, QuotaWindow.HOUR: 3600, QuotaWindow.DAY: 86400}.get(window)
    if size is not None:
        start = int(now // size) * size
        return start, start + size
    moment = datetime.fromtimestamp(now, UTC)
    start_dt = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    days = calendar.monthrange(moment.year, moment.month)[1]
    start = int(start_dt.timestamp())
    return start, start + days * 86400


def fits(used: int, add: int, limit: int) -> bool:
    return limit <= 0 or used + add <= limit


def refill(tokens: float, last: float, stored_capacity: float, now: float, rate: float,
           capacity: float) -> float:
    """The bucket's tokens at ``now``: clamp to a new capacity (resize in place), then refill at ``rate``."""
    if capacity != stored_capacity:
        tokens = min(tokens, capacity)
    return min(capacity, tokens + max(0.0, now - last) * rate)


def check_amounts(requests: int, tokens: int) -> None:
    if requests < 0 or tokens < 0:
        raise ValueError("requests and tokens must be >= 0")


class MemoryStateStore:
    """State in this process's memory: exact and fast, but **per process** (see the module docstring)."""

    capabilities = StateCapabilities(shared=False)

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int, int, int]] = {}   # -> (start, end, requests, tokens)
        self._sliding: dict[str, deque[tuple[float, int, int]]] = {}
        self._buckets: dict[str, tuple[float, float, float]] = {}             # -> (tokens, last, capacity)
        self._ops = 0

    def _current(self, key: str, spec: WindowSpec) -> tuple[int, int]:
        found = self._windows.get((key, spec.name))
        if found is None or found[0] != spec.start:
            return 0, 0
        return found[2], found[3]

    def _maybe_purge(self, now: float) -> None:
        self._ops += 1
        if self._ops % 4096:
            return
        for k in [k for k, v in self._windows.items() if v[1] <= now]:
            del self._windows[k]

    async def reserve(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> Reservation:
        check_amounts(requests, tokens)
        current = [self._current(key, w) for w in windows]
        for spec, (r, t) in zip(windows, current, strict=True):
            if not (fits(r, requests, spec.max_requests) and fits(t, tokens, spec.max_tokens)):
                return Reservation(False, tuple(WindowUsage(w.name, u[0], u[1]) for w, u in zip(windows, current,
                                                                                                  strict=True)),
                                   spec.name)
        usage = []
        for spec, (r, t) in zip(windows, current, strict=True):
            self._windows[(key, spec.name)] = (spec.start, spec.end, r + requests, t + tokens)
            usage.append(WindowUsage(spec.name, r + requests, t + tokens))
        if windows:
            self._maybe_purge(windows[0].start)
        return Reservation(True, tuple(usage))

    async def release(self, key: str, windows: Sequence[WindowSpec], requests: int, tokens: int) -> None:
        check_amounts(requests, tokens)
        for spec in windows:
            found = self._windows.get((key, spec.name))
            if found is not None and found[0] == spec.start:
                self._windows[(key, spec.name)] = (found[0], found[1], max(0, found[2] - requests),
                                                   max(0, found[3] - tokens))

    async def usage(self, key: str, windows: Sequence[WindowSpec]) -> tuple[WindowUsage, ...]:
        return tuple(WindowUsage(w.name, *self._current(key, w)) for w in windows)

    async def reserve_sliding(self, key: str, now: float, window: float, requests: int, tokens: int,
                              max_requests: int, max_tokens: int) -> SlidingResult:
        check_amounts(requests, tokens)
        entries = self._sliding.setdefault(key, deque())
        while entries and entries[0][0] <= now - window:
            entries.popleft()
        used_r = sum(e[1] for e in entries)
        used_t = sum(e[2] for e in entries)
        oldest = entries[0][0] if entries else 0.0
        if not (fits(used_r, requests, max_requests) and fits(used_t, tokens, max_tokens)):
            return SlidingResult(False, used_r, used_t, oldest)
        entries.append((now, requests, tokens))
        return SlidingResult(True, used_r + requests, used_t + tokens, oldest or now)

    async def take(self, key: str, now: float, rate: float, capacity: float, cost: float) -> BucketResult:
        state = self._buckets.get(key)
        level = capacity if state is None else refill(state[0], state[1], state[2], now, rate, capacity)
        last = now if state is None else max(state[1], now)
        if level >= cost:
            self._buckets[key] = (level - cost, last, capacity)
            return BucketResult(True, level - cost, 0.0)
        self._buckets[key] = (level, last, capacity)
        return BucketResult(False, level, (cost - level) / rate if rate > 0 else math.inf)

    async def reset(self, key: str) -> None:
        for k in [k for k in self._windows if k[0] == key]:
            del self._windows[k]
        self._sliding.pop(key, None)
        self._buckets.pop(key, None)

    async def close(self) -> None:
        self._windows.clear()
        self._sliding.clear()
        self._buckets.clear()
