"""Load balancers: round robin, random, smooth weighted round robin (nginx), IP hash (FNV-1a) and least
connections. Each picks one of the candidate backends the proxy hands it (already healthy and admitted by their
circuit breakers). Imports only the standard library and this package.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Sequence
from typing import Protocol

from ._backend import Backend

__all__ = ["IPHash", "LeastConnections", "LoadBalancer", "Random", "RoundRobin", "WeightedRoundRobin", "fnv1a32"]


class LoadBalancer(Protocol):
    def pick(self, candidates: Sequence[Backend], client_ip: str) -> Backend:
        """Choose one of ``candidates`` (never empty) for a request from ``client_ip``."""
        ...


class RoundRobin:
    def __init__(self) -> None:
        self._counter = itertools.count()

    def pick(self, candidates: Sequence[Backend], client_ip: str) -> Backend:
        return candidates[next(self._counter) % len(candidates)]


class Random:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def pick(self, candidates: Sequence[Backend], client_ip: str) -> Backend:
        return self._rng.choice(candidates)


class WeightedRoundRobin:
    """nginx's smooth weighted round robin: weights 5,1,1 give a a b a c a a, never a burst of one backend."""

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._lock = threading.Lock()

    def pick(self, candidates: Sequence[Backend], client_ip: str) -> Backend:
        with self._lock:
            total = 0
            best: Backend | None = None
            for backend in candidates:
                weight = max(1, backend.weight)
                current = self._current.get(backend.url, 0) + weight
                self._current[backend.url] = current
                total += weight
                if best is None or current > self._current[best.url]:
                    best = backend
            assert best is not None
            self._current[best.url] -= total
            return best


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


class IPHash:
    """The same client IP goes to the same backend while the candidate set is unchanged (FNV-1a, as Go)."""

    def pick(self, candidates: Sequence[Backend], client_ip: str) -> Backend:
        return candidates[fnv1a32(client_ip.encode()) % len(candidates)]


class LeastConnections:
    """The backend with the fewest requests in flight (the proxy counts them while a response streams)."""

    def __init__(self) -> None:
        self._tie = itertools.count()

    def pick(self, candidates: Sequence[Backend], client_ip: str) -> Backend:
        fewest = min(b.active for b in candidates)
        tied = [b for b in candidates if b.active == fewest]
        return tied[next(self._tie) % len(tied)]
