"""plumego.x.ai.resilience (experimental): ``ResilientProvider`` — a keyed rate limit and a circuit breaker in
front of a provider, both from x/resilience.

The limiter is any ``plumego.x.resilience.KeyedLimiter``: ``KeyedBuckets`` keeps its buckets per process (with
several workers give each its share of the rate); ``RedisKeyedLimiter`` makes every worker and instance share one
budget. The breaker is ``plumego.x.resilience.CircuitBreaker`` with Go's semantics (failure *rate* over
``min_requests`` calls, half-open probes); only retryable provider failures (5xx, 529, timeouts, connection
errors) count as failures — a provider that answered "your request is wrong" is healthy.
Imports the standard library, x/ai and x/resilience.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from plumego.x.resilience import CircuitBreaker, CircuitBreakerError, KeyedBuckets, KeyedLimiter

from ..provider import (CompletionRequest, CompletionResponse, ModelInfo, Provider, ProviderError,
                        ProviderUnavailable, RateLimitError, StreamReader)

__all__ = ["CircuitBreaker", "CircuitOpenError", "KeyedBuckets", "ResilientProvider"]


class CircuitOpenError(ProviderUnavailable):
    """The breaker refused the call (open, or half-open with its probes in flight): the provider is not called."""


class ResilientProvider:
    """``key(req)`` picks the rate-limit key (default: ``metadata["tenant"]`` or the model). Over the limit:
    RateLimitError with ``retry_after`` (or wait, when ``wait=True``). The default breaker is
    ``CircuitBreaker("ai:<provider>")`` with x/resilience's defaults."""

    def __init__(self, provider: Provider, *, limiter: KeyedLimiter | None = None,
                 breaker: CircuitBreaker | None = None, key: Callable[[CompletionRequest], str] | None = None,
                 wait: bool = False) -> None:
        self.inner, self.limiter, self.wait = provider, limiter, wait
        self.breaker = breaker or CircuitBreaker(f"ai:{provider.name}")
        self.key = key or (lambda req: req.metadata.get("tenant") or req.model)
        self.name = provider.name

    async def _admit(self, req: CompletionRequest) -> int:
        if self.limiter is not None:
            key = self.key(req)
            while not (decision := await self.limiter.take(key)).allowed:
                if not self.wait:
                    raise RateLimitError(f"{self.name}: local rate limit", retry_after=decision.retry_after,
                                         provider=self.name, status=429)
                await asyncio.sleep(decision.retry_after)
        try:
            return self.breaker.acquire()
        except CircuitBreakerError as exc:
            raise CircuitOpenError(f"circuit {exc.state}: the provider failed repeatedly",
                                   provider="breaker") from exc

    def _record(self, ticket: int, exc: ProviderError | None) -> None:
        # the provider answered (even "your request is wrong"): healthy; only retryable failures count
        self.breaker.record(ticket, exc is None or not exc.retryable)

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        ticket = await self._admit(req)
        try:
            resp = await self.inner.complete(req)
        except ProviderError as exc:
            self._record(ticket, exc)
            raise
        except BaseException:
            self._record(ticket, None)      # cancelled or a bug of ours: not the provider's failure
            raise
        self._record(ticket, None)
        return resp

    async def stream(self, req: CompletionRequest) -> StreamReader:
        ticket = await self._admit(req)
        try:
            reader = await self.inner.stream(req)
        except ProviderError as exc:
            self._record(ticket, exc)
            raise
        except BaseException:
            self._record(ticket, None)
            raise
        self._record(ticket, None)
        return reader

    async def list_models(self) -> list[ModelInfo]:
        return await self.inner.list_models()

    async def get_model(self, model_id: str) -> ModelInfo:
        return await self.inner.get_model(model_id)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def aclose(self) -> None:
        await self.inner.aclose()
