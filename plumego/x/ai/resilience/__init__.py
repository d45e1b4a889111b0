"""plumego.x.ai.resilience (experimental): ``ResilientProvider`` — a keyed token-bucket rate limiter and a
circuit breaker in front of a provider. x/resilience has no code on main yet, so both are small and local here
(per process: with several workers, give each its share of the rate).

The breaker opens after ``failure_threshold`` consecutive retryable failures, fails fast with
``CircuitOpenError`` for ``reset_timeout`` seconds, then lets one trial call through (half-open).
Imports the standard library and x/ai.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..provider import (CompletionRequest, CompletionResponse, ModelInfo, Provider, ProviderError,
                        ProviderUnavailable, RateLimitError, StreamReader)

__all__ = ["CircuitBreaker", "CircuitOpenError", "KeyedLimiter", "ResilientProvider"]


class CircuitOpenError(ProviderUnavailable):
    """The breaker is open: the provider is not called."""


@dataclass
class _Bucket:
    tokens: float
    at: float


class KeyedLimiter:
    """``rate`` calls per second with bursts of ``burst``, per key (a tenant, a user, a model)."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst, self._clock, self.max_keys = rate, burst, clock, max_keys
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> float:
        """0 when allowed (a token is taken), else the seconds until one is available."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.pop(next(iter(self._buckets)))
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold, self.reset_timeout, self._clock = failure_threshold, reset_timeout, clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self.opened_at >= self.reset_timeout else "open"

    def before(self) -> None:
        state = self.state
        if state == "open" or (state == "half_open" and self._trial):
            raise CircuitOpenError("circuit open: the provider failed repeatedly", provider="breaker")
        if state == "half_open":
            self._trial = True

    def success(self) -> None:
        self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        self._trial = False
        self.failures += 1
        if self.failures >= self.failure_threshold or self.opened_at is not None:
            self.opened_at = self._clock()


class ResilientProvider:
    """``key(req)`` picks the rate-limit key (default: ``metadata["tenant"]`` or the model). Over the limit:
    RateLimitError with ``retry_after`` (or wait, when ``wait=True``)."""

    def __init__(self, provider: Provider, *, limiter: KeyedLimiter | None = None,
                 breaker: CircuitBreaker | None = None, key: Callable[[CompletionRequest], str] | None = None,
                 wait: bool = False) -> None:
        self.inner, self.limiter, self.breaker, self.wait = provider, limiter, breaker or CircuitBreaker(), wait
        self.key = key or (lambda req: req.metadata.get("tenant") or req.model)
        self.name = provider.name

    async def _admit(self, req: CompletionRequest) -> None:
        if self.limiter is not None:
            while (delay := self.limiter.allow(self.key(req))) > 0:
                if not self.wait:
                    raise RateLimitError(f"{self.name}: local rate limit", retry_after=delay, provider=self.name,
                                         status=429)
                await asyncio.sleep(delay)
        self.breaker.before()

    def _record(self, exc: ProviderError | None) -> None:
        if exc is None:
            self.breaker.success()
        elif exc.retryable:
            self.breaker.failure()
        else:
            self.breaker.success()          # the provider answered; the request was wrong

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        await self._admit(req)
        try:
            resp = await self.inner.complete(req)
        except ProviderError as exc:
            self._record(exc)
            raise
        self._record(None)
        return resp

    async def stream(self, req: CompletionRequest) -> StreamReader:
        await self._admit(req)
        try:
            reader = await self.inner.stream(req)
        except ProviderError as exc:
            self._record(exc)
            raise
        self._record(None)
        return reader

    async def list_models(self) -> list[ModelInfo]:
        return await self.inner.list_models()

    async def get_model(self, model_id: str) -> ModelInfo:
        return await self.inner.get_model(model_id)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def aclose(self) -> None:
        await self.inner.aclose()
