"""One upstream backend: its URL and weight, its own httpx connection pool, its health (passive failure count
and active probe result), its in-flight count and its circuit breaker.

Owns :class:`Backend` and :class:`BackendStats`. Imports the standard library, httpx and plumego.x.resilience.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

from plumego.x.resilience import CircuitBreaker, State

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the gateway needs httpx: pip install 'plumego[gateway]'") from exc

__all__ = ["SHARD_SIZE", "Backend", "BackendStats", "PoolLimits", "check_backend_url"]

SHARD_SIZE = 8


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """The connection pool of each backend (Go's per-backend ``http.Transport``): at most ``max_connections``
    connections in all, kept in shards of :data:`SHARD_SIZE`."""

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
                 breaker: CircuitBreaker | None = None) -> None:
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
        # The proxy sends through httpx transports (connection pools) directly: the client layer above them adds
        # default headers, a cookie jar, auth and redirect handling a proxy must not have. The pool is sharded:
        # httpcore polls every idle connection of a pool on each request, so one pool of 32 connections costs
        # 2.2 ms of CPU per request where pools of 8 cost 0.7 ms (bench/RESULTS-gateway.md). A shard is added
        # when every shard has SHARD_SIZE requests in flight, up to max_connections in all.
        self._limits = limits
        self._max_shards = max(1, -(-limits.max_connections // SHARD_SIZE))
        self._shards: list[httpx.AsyncHTTPTransport] = [self._new_shard()]
        self._inflight: list[int] = [0]
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))  # keep no backend's cookies
        self.client = httpx.AsyncClient(transport=self._shards[0], follow_redirects=False, trust_env=False,
                                        cookies=jar)

    def _new_shard(self) -> httpx.AsyncHTTPTransport:
        size = min(SHARD_SIZE, self._limits.max_connections)
        return httpx.AsyncHTTPTransport(
            verify=self._limits.verify, http2=self._limits.http2, trust_env=False,
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=min(size, self._limits.max_keepalive),
                                keepalive_expiry=self._limits.keepalive_expiry))

    def lease(self) -> int:
        """The shard with the fewest requests in flight (a new one when all are full); give it back with
        :meth:`release` once the response is closed."""
        index = min(range(len(self._shards)), key=self._inflight.__getitem__)
        if self._inflight[index] >= SHARD_SIZE and len(self._shards) < self._max_shards:
            self._shards.append(self._new_shard())
            self._inflight.append(0)
            index = len(self._shards) - 1
        self._inflight[index] += 1
        return index

    def release(self, index: int) -> None:
        self._inflight[index] -= 1

    async def send(self, index: int, request: httpx.Request) -> httpx.Response:
        return await self._shards[index].handle_async_request(request)

    def available(self) -> bool:
        """Healthy and not refused by an open breaker (a half-open one is tried; it may still refuse)."""
        return self.healthy and (self.breaker is None or self.breaker.state is not State.OPEN)

    def stats(self) -> BackendStats:
        return BackendStats(self.url, self.healthy, self.active, self.requests, self.failures,
                            self.consecutive_failures, str(self.breaker.state) if self.breaker else "")

    async def aclose(self) -> None:
        await self.client.aclose()                       # closes shard 0
        for shard in self._shards[1:]:
            await shard.aclose()
