"""plumego.x.resilience (experimental): the circuit breaker, token buckets and keyed rate limiters.

::

    breaker = CircuitBreaker("billing", failure_threshold=0.5, min_requests=10, timeout=30)
    result = await breaker.call(fetch_invoice, invoice_id)     # CircuitOpenError while open
    app.use(circuit_breaker(breaker))                          # 503 CIRCUIT_OPEN, 429 while half-open

    limiter = await RedisKeyedLimiter.open("redis://localhost:6379/0?prefix=api", rate=10, burst=20)
    app.use(rate_limit(limiter))                               # one budget per client across every worker

The breaker and :class:`TokenBucket` / :class:`KeyedBuckets` are per process; :class:`RedisKeyedLimiter`
(``pip install 'plumego[redis]'``, imported lazily) is the shared one. May import the standard library,
plumego.contract and plumego.middleware; never plumego.core, the router, the store or another x family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._breaker import (
    BreakerStats,
    CircuitBreaker,
    CircuitBreakerError,
    CircuitOpenError,
    Counts,
    State,
    TooManyRequestsError,
)
from ._bucket import Decision, KeyedBuckets, RateLimitTimeout, TokenBucket
from ._limiter import KeyedLimiter, client_key, rate_limit
from ._middleware import circuit_breaker

if TYPE_CHECKING:
    from ._redis import RedisKeyedLimiter

__all__ = [
    "BreakerStats",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitOpenError",
    "Counts",
    "Decision",
    "KeyedBuckets",
    "KeyedLimiter",
    "RateLimitTimeout",
    "RedisKeyedLimiter",
    "State",
    "TokenBucket",
    "TooManyRequestsError",
    "circuit_breaker",
    "client_key",
    "rate_limit",
]


def __getattr__(name: str) -> Any:
    if name == "RedisKeyedLimiter":  # redis-py is an optional extra: import it only when asked for
        from ._redis import RedisKeyedLimiter

        return RedisKeyedLimiter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
