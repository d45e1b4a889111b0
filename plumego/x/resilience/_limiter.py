"""The keyed-limiter contract and its HTTP middleware.

Owns :class:`KeyedLimiter` (what :class:`KeyedBuckets` and :class:`RedisKeyedLimiter` both are) and
:func:`rate_limit`, which answers 429 ``RATE_LIMITED`` with ``Retry-After`` from any of them.
Imports the standard library and plumego.contract only.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Protocol

from plumego.contract import APIError, ASGIApp, ErrorCategory, ErrorResponse, Middleware, Receive, Scope, Send

from ._bucket import Decision

__all__ = ["KeyedLimiter", "client_key", "rate_limit"]


class KeyedLimiter(Protocol):
    async def take(self, key: str, n: int = 1) -> Decision: ...
    async def wait(self, key: str, n: int = 1, *, timeout: float | None = None) -> None: ...
    async def delete(self, key: str) -> None: ...
    def update_rate(self, rate: float, burst: int | None = None) -> None: ...
    async def close(self) -> None: ...


def client_key(scope: Scope) -> str:
    """The peer address ASGI reports (put ``plumego.middleware.proxy_headers`` first behind a proxy)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def rate_limit(limiter: KeyedLimiter, *, key: Callable[[Scope], str | Awaitable[str]] = client_key) -> Middleware:
    """Take one token per HTTP request from ``limiter`` under ``key(scope)``; over budget answers 429.

    The 429 is the canonical envelope (code ``RATE_LIMITED``, details ``retry_after``) with ``Retry-After`` in
    whole seconds (at least 1) and ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining``. With a
    :class:`RedisKeyedLimiter` every worker draws from the same budget.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            name = key(scope)
            if not isinstance(name, str):
                name = await name
            decision = await limiter.take(name)
            if decision.allowed:
                await app(scope, receive, send)
                return
            retry = decision.retry_after
            seconds = "3600" if math.isinf(retry) else str(max(1, math.ceil(retry)))
            err = APIError(status=429, code="RATE_LIMITED", message="too many requests",
                           category=ErrorCategory.RATE_LIMIT,
                           details={"retry_after": None if math.isinf(retry) else round(retry, 3)})
            headers = {"Retry-After": seconds, "X-RateLimit-Limit": str(decision.limit),
                       "X-RateLimit-Remaining": str(int(decision.remaining))}
            await ErrorResponse(err, headers=headers)(scope, receive, send)

        return limited

    return wrap
