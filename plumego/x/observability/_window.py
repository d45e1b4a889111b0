"""Window metrics (count, sum, mean, p50/p95/p99 over a sliding time window) and the bounded record buffer.

Owns only in-process arithmetic; imports only the standard library. Both are per process: for fleet-wide
numbers export to Prometheus instead.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["RecordBuffer", "WindowMetrics", "WindowStats"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WindowStats:
    """What a :class:`WindowMetrics` saw in its window. Percentiles are nearest-rank; 0.0 when empty."""

    count: int
    sum: float
    mean: float
    min: float
    max: float
    p50: float
    p95: float
    p99: float

    def to_dict(self) -> dict[str, float | int]:
        return {"count": self.count, "sum": self.sum, "mean": self.mean, "min": self.min, "max": self.max,
                "p50": self.p50, "p95": self.p95, "p99": self.p99}


class WindowMetrics:
    """A sliding window of observations: anything older than ``window`` seconds is forgotten.

    At most ``max_samples`` are kept (oldest dropped first) so memory stays bounded under load. Thread-safe.
    ``clock`` is injectable for tests (default ``time.monotonic``).
    """

    def __init__(self, window: float = 60.0, *, max_samples: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if window <= 0:
            raise ValueError(f"window {window} must be > 0 seconds")
        if max_samples < 1:
            raise ValueError(f"max_samples {max_samples} must be >= 1")
        self.window = window
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"observation {value!r} is not a finite number")
        with self._lock:
            self._samples.append((self._clock(), value))

    def _evict(self) -> None:
        cutoff = self._clock() - self.window
        while self._samples and self._samples[0][0] <= cutoff:
            self._samples.popleft()

    def stats(self) -> WindowStats:
        with self._lock:
            self._evict()
            ordered = sorted(value for _, value in self._samples)
        if not ordered:
            return WindowStats(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        total = math.fsum(ordered)

        def rank(q: float) -> float:
            return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

        return WindowStats(len(ordered), total, total / len(ordered), ordered[0], ordered[-1],
                           rank(0.50), rank(0.95), rank(0.99))

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()


class RecordBuffer(Generic[T]):
    """The last ``capacity`` records (oldest dropped first), with a count of everything ever added. Thread-safe."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity {capacity} must be >= 1")
        self.capacity = capacity
        self._items: deque[T] = deque(maxlen=capacity)
        self._total = 0
        self._lock = threading.Lock()

    def add(self, record: T) -> None:
        with self._lock:
            self._items.append(record)
            self._total += 1

    def snapshot(self, limit: int | None = None) -> list[T]:
        """The kept records, oldest first; with ``limit``, only the newest ``limit``."""
        with self._lock:
            items = list(self._items)
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return items

    @property
    def total(self) -> int:
        """Records ever added (kept or dropped)."""
        return self._total

    @property
    def dropped(self) -> int:
        return self._total - len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
