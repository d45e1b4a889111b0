"""One upstream backend: its URL and weight, its own connection pool (:mod:`._upstream`), its health (passive
failure count and active probe result), its in-flight count and its circuit breaker.

Owns :class:`Backend` and :class:`BackendStats`. Imports the standard library, plumego.x.resilience and this package.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from plumego.x.resilience import CircuitBreaker, State

from ._upstream import SHARD_SIZE, Upstream, UpstreamKind, UpstreamResponse, new_upstream

__all__ = ["SHARD_SIZE", "Backend", "BackendStats", "PoolLimits", "check_backend_url"]


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """The connection pool of each backend (Go's per-backend ``http.Transport``): at most ``max_connections``
    connections in all (with ``upstream="httpx"``, kept in shards of :data:`SHARD_SIZE`). ``http2`` needs
    ``upstream="httpx"``; ``max_keepalive`` applies to httpx only (aiohttp caps idle connections by
    ``max_connections`` and ``keepalive_expiry``)."""

    max_connections: int = 100
    max_keepalive: int = 100
    keepalive_expiry: float = 90.0
    connect_timeout: float = 5.0
    verify: Any = True
    """TLS verification for https backends: True, False or an ``ssl.SSLContext``."""
    http2: bool = False


@dataclass(frozen=True, slots=True)
class BackendStats:
    url: str
    healthy: bool
    active: int
    requests: int
    failures: int
    consecutive_failures: int
    breaker: str


def check_backend_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a backend URL must be http(s)://host[:port][/base], got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a backend URL carries no query or fragment, got {url!r}")
    return url.rstrip("/")


class Backend:
    """An upstream with its own pool. Created and closed by the gateway; read by balancers and stats."""

    def __init__(self, url: str, *, weight: int = 1, limits: PoolLimits = PoolLimits(),
                 breaker: CircuitBreaker | None = None, upstream: UpstreamKind = "aiohttp",
                 timeout: float = 30.0) -> None:
        self.url = check_backend_url(url)
        parts = urlsplit(self.url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.base_path = parts.path
        self.weight = weight
        self.breaker = breaker
        self.healthy = True
        self.active = 0
        self.requests = 0
        self.failures = 0
        self.consecutive_failures = 0
        self.upstream: Upstream = new_upstream(upstream, timeout=timeout, limits=limits)
        """The backend's connection pool (:mod:`._upstream`): aiohttp by default, httpx on request."""

    async def send(self, method: str, url: str, headers: list[tuple[str, str]],
                   body: AsyncIterator[bytes] | None) -> UpstreamResponse:
        return await self.upstream.send(method, url, headers, body)

    async def probe(self, path: str, timeout: float) -> int:
        """GET ``path`` on this backend through its pool and return the status. Raises UpstreamError."""
        return await self.upstream.probe(self.url + path, timeout)

    def available(self) -> bool:
        """Healthy and not refused by an open breaker (a half-open one is tried; it may still refuse)."""
        return self.healthy and (self.breaker is None or self.breaker.state is not State.OPEN)

    def stats(self) -> BackendStats:
        return BackendStats(self.url, self.healthy, self.active, self.requests, self.failures,
                            self.consecutive_failures, str(self.breaker.state) if self.breaker else "")

    async def aclose(self) -> None:
        await self.upstream.aclose()
