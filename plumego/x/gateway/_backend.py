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

__all__ = ["Backend", "BackendStats", "PoolLimits", "check_backend_url"]


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """The connection pool of each backend (Go's per-backend ``http.Transport``)."""

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
        # The proxy sends through the transport (the connection pool) itself: the client layer above it adds
        # default headers, a cookie jar, auth and redirect handling a proxy must not have, and costs about a
        # fifth of the gateway's CPU per request. The client, on the same pool, serves health checks.
        self.transport = httpx.AsyncHTTPTransport(
            verify=limits.verify, http2=limits.http2, trust_env=False,
            limits=httpx.Limits(max_connections=limits.max_connections,
                                max_keepalive_connections=limits.max_keepalive,
                                keepalive_expiry=limits.keepalive_expiry))
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))  # keep no backend's cookies
        self.client = httpx.AsyncClient(transport=self.transport, follow_redirects=False, trust_env=False,
                                        cookies=jar)

    def available(self) -> bool:
        """Healthy and not refused by an open breaker (a half-open one is tried; it may still refuse)."""
        return self.healthy and (self.breaker is None or self.breaker.state is not State.OPEN)

    def stats(self) -> BackendStats:
        return BackendStats(self.url, self.healthy, self.active, self.requests, self.failures,
                            self.consecutive_failures, str(self.breaker.state) if self.breaker else "")

    async def aclose(self) -> None:
        await self.client.aclose()
