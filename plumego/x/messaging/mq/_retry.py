"""Retry back-off for failed tasks (Go's ``ExponentialBackoff{Base 1s, Max 5m, Factor 2, Jitter 0.2}``).

Owns the delay computation only. Imports only the standard library.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["ExponentialBackoff"]


@dataclass(frozen=True, slots=True)
class ExponentialBackoff:
    """``delay(n) = min(max, base * factor**(n-1))``, spread by ±``jitter`` (a fraction) so that tasks that failed
    together do not all come back in the same instant. ``n`` is the attempt that just failed (1-based)."""

    base: float = 1.0
    max: float = 300.0
    factor: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.base < 0 or self.max < 0 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError("backoff needs base >= 0, max >= 0, factor >= 1 and 0 <= jitter < 1")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        exponent = max(0, attempt - 1)
        raw = self.max if exponent > 64 else min(self.max, self.base * self.factor ** exponent)
        if not self.jitter:
            return raw
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, min(self.max, raw * (1 + spread)))
