"""The reverse proxy: an ASGI app that forwards each request to one backend over that backend's own pool,
streaming the request and response bodies both ways without buffering them.

Owns :class:`Gateway` and :class:`GatewayConfig`. Behaviour follows Go ``x/gateway``: X-Forwarded-For (appended),
X-Forwarded-Proto, X-Forwarded-Host and X-Real-IP; hop-by-hop headers stripped both ways; redirects passed to the
client, never followed; a transport error is retried on another backend only before the response started (and,
for a request with a body, only when none of it was sent); no backend -> 503, timeout -> 504, other failures ->
502, each as the canonical error envelope and a log line. Websocket scopes are tunnelled by :mod:`._websocket`.
Imports the standard library, plumego.contract, plumego.x.resilience and this package.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from plumego.contract import APIError, ErrorCategory, ErrorCode, ErrorResponse, Receive, Scope, Send
from plumego.x.resilience import CircuitBreaker, CircuitBreakerError

from ._backend import Backend, BackendStats, PoolLimits
from ._balance import LoadBalancer, RoundRobin
from ._rewrite import HeaderList, HeaderModifier, PathRewrite
from ._upstream import UpstreamError, UpstreamKind, UpstreamResponse, UpstreamTimeout

__all__ = ["Gateway", "GatewayConfig", "HealthCheck", "Target", "client_ip_of"]

_log = logging.getLogger("plumego.x.gateway")

HOP_BY_HOP = frozenset({"connection", "proxy-connection", "keep-alive", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"})


@dataclass(frozen=True, slots=True)
class Target:
    """A backend URL with its weight (for :class:`WeightedRoundRobin`). Anything with ``url`` and ``weight``
    attributes will do, e.g. a discovery ``Instance``."""

    url: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """Active health checking: GET ``path`` on every backend each ``interval``; ``expected_status`` is healthy."""

    interval: float = 10.0
    timeout: float = 5.0
    path: str = "/health"
    expected_status: int = 200
    on_change: Callable[[str, bool], None] | None = None


@dataclass
class GatewayConfig:
    targets: Sequence[str | TargetLike] = ()
    load_balancer: LoadBalancer = field(default_factory=RoundRobin)
    path_rewrite: PathRewrite | None = None
    request_modifiers: Sequence[HeaderModifier] = ()
    response_modifiers: Sequence[HeaderModifier] = ()
    timeout: float = 30.0
    """Seconds to wait for the backend's response headers, and for each read of its body (Go ``Timeout``)."""
    retry_count: int = 2
    retry_backoff: float = 0.1
    """Sleep ``retry_backoff * attempt`` between attempts (Go: 100 ms x attempt)."""
    failure_threshold: int = 3
    """Consecutive transport failures that mark a backend unhealthy (passive health); one success restores it."""
    health_check: HealthCheck | None = None
    circuit_breaker: bool = False
    breaker_factory: Callable[[str], CircuitBreaker] | None = None
    """Builds the breaker of each backend; default Go's: failure rate 0.5, 10 requests, 3 successes to close."""
    preserve_host: bool = False
    add_forwarded_headers: bool = True
    remove_hop_by_hop: bool = True
    websocket: bool = True
    limits: PoolLimits = field(default_factory=PoolLimits)
    upstream: UpstreamKind = "aiohttp"
    """The client each backend's pool runs on: ``"aiohttp"`` (default; about 7x less CPU per request than httpx,
    bench/RESULTS-gateway.md) or ``"httpx"`` (httpx/httpcore transports; needed for ``limits.http2``)."""
    error_handler: Callable[[Scope, APIError], APIError] | None = None
    """May replace the 502/503/504 error before it is sent (Go ``ErrorHandler``)."""


def _default_breaker(url: str) -> CircuitBreaker:
    return CircuitBreaker(url, failure_threshold=0.5, min_requests=10, success_threshold=3, timeout=30.0)


def client_ip_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


class TargetLike(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def weight(self) -> int: ...


class _ClientGone(Exception):
    pass


class _NoBackend(Exception):
    pass


class Gateway:
    """A reverse proxy as an ASGI app and a lifecycle component.

    ::

        gateway = Gateway(GatewayConfig(targets=["http://10.0.0.5:8080", "http://10.0.0.6:8080"],
                                        load_balancer=LeastConnections(), path_rewrite=strip_prefix("/api")))
        app.add_component("gateway", gateway)          # starts health checks and discovery, closes the pools
        register_proxy(app, "/api", gateway)           # ANY /api and /api/*path

    The path forwarded is the request's full path (ASGI keeps the mount prefix in it) after ``path_rewrite``,
    appended to the backend URL's own path.
    """

    def __init__(self, config: GatewayConfig, *, discovery: Any = None, service: str = "") -> None:
        if config.retry_count < 0 or config.timeout <= 0 or config.failure_threshold < 1:
            raise ValueError("retry_count must be >= 0, timeout > 0 and failure_threshold >= 1")
        if not config.targets and discovery is None:
            raise ValueError("a gateway needs targets or a discovery with a service name")
        if discovery is not None and not service:
            raise ValueError("discovery needs the service name to resolve")
        self.config = config
        self._discovery = discovery
        self._service = service
        self._backends: list[Backend] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.set_targets(config.targets)

    # --- backends -------------------------------------------------------------------------------------------
    def _new_backend(self, target: str | TargetLike) -> Backend:
        url, weight = (target, 1) if isinstance(target, str) else (target.url, target.weight)
        breaker = None
        if self.config.circuit_breaker:
            breaker = (self.config.breaker_factory or _default_breaker)(url.rstrip("/"))
        return Backend(url, weight=weight, limits=self.config.limits, breaker=breaker, upstream=self.config.upstream,
                       timeout=self.config.timeout)

    def set_targets(self, targets: Sequence[str | TargetLike]) -> list[Backend]:
        """Replace the backend set; unchanged URLs keep their pool and state. Returns the removed backends
        (close them with ``aclose`` once their in-flight requests are done; :meth:`update_targets` does)."""
        current = {b.url: b for b in self._backends}
        fresh: list[Backend] = []
        for target in targets:
            url = (target if isinstance(target, str) else target.url).rstrip("/")
            backend = current.pop(url, None) or self._new_backend(target)
            if not isinstance(target, str):
                backend.weight = target.weight
            fresh.append(backend)
        self._backends = fresh
        return list(current.values())

    async def update_targets(self, targets: Sequence[str | TargetLike]) -> None:
        for gone in self.set_targets(targets):
            asyncio.get_running_loop().create_task(self._close_when_idle(gone))

    @staticmethod
    async def _close_when_idle(backend: Backend) -> None:
        while backend.active:
            await asyncio.sleep(0.5)
        await backend.aclose()

    @property
    def backends(self) -> list[Backend]:
        return list(self._backends)

    def stats(self) -> list[BackendStats]:
        return [b.stats() for b in self._backends]

    # --- lifecycle ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._discovery is not None:
            await self.update_targets(await self._discovery.resolve(self._service))
            self._tasks.append(asyncio.create_task(self._watch(), name="gateway-discovery"))
        if self.config.health_check is not None:
            from ._health import run_health_checks

            self._tasks.append(asyncio.create_task(run_health_checks(self, self.config.health_check),
                                                   name="gateway-health"))

    async def _watch(self) -> None:
        assert self._discovery is not None
        while True:
            try:
                async for urls in self._discovery.watch(self._service):
                    await self.update_targets(urls)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # discovery down: keep the last known backends, try again later
                _log.warning("gateway discovery of %r failed: %s", self._service, exc)
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks.clear()
        for backend in self._backends:
            await backend.aclose()

    close = stop

    # --- ASGI -----------------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.config.websocket:
            from ._websocket import proxy_websocket

            await proxy_websocket(self, scope, receive, send)
            return
        if scope["type"] != "http":
            return
        await self._proxy_http(scope, receive, send)

    def upstream_path(self, scope: Scope) -> str:
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else quote(scope.get("path", "/"), safe="/:@!$&'()*+,;=-._~%")
        path = path.split("?", 1)[0] or "/"
        if self.config.path_rewrite is not None:
            path = self.config.path_rewrite(path)
        return path if path.startswith("/") else "/" + path

    def request_headers(self, scope: Scope, backend: Backend) -> HeaderList:
        """The headers sent to ``backend``: the client's, hop-by-hop ones stripped, ``Host`` set to the backend
        (unless ``preserve_host``), the forwarded headers set, then the request modifiers. One pass over the
        client's headers, no per-header validation (the ASGI server parsed them)."""
        cfg = self.config
        items = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", ())]
        if cfg.remove_hop_by_hop:
            items = _strip_hop_by_hop_items(items)
        forwarded = cfg.add_forwarded_headers
        ip = client_ip_of(scope) if forwarded else ""
        replaced: set[str] = set()
        if not cfg.preserve_host:
            replaced.add("host")
        if forwarded:
            replaced.update(("x-forwarded-proto", "x-forwarded-host"))
            if ip:
                replaced.update(("x-forwarded-for", "x-real-ip"))
        host = ""
        prior: list[str] = []
        kept: list[tuple[str, str]] = []
        for k, v in items:
            if k == "host" and not host:
                host = v
            if k in replaced:
                if k == "x-forwarded-for":
                    prior.append(v)
                continue
            kept.append((k, v))
        # The same order HeaderList.set gives: replaced headers go last, in this order.
        if not cfg.preserve_host:
            kept.append(("host", backend.netloc))
        if forwarded:
            if ip:
                chain = ", ".join(prior)
                kept.append(("x-forwarded-for", f"{chain}, {ip}" if chain else ip))
                kept.append(("x-real-ip", ip))
            kept.append(("x-forwarded-proto", "https" if scope.get("scheme") in ("https", "wss") else "http"))
            if host:
                kept.append(("x-forwarded-host", host))
        headers = HeaderList()
        headers.items = kept
        for modify in cfg.request_modifiers:
            modify(headers)
        return headers

    def _pick(self, scope: Scope, tried: set[str]) -> tuple[Backend, int | None]:
        """A backend and its breaker ticket. Backends not tried yet for this request come first; when every
        available one was tried, a retry goes to a tried one again (on a fresh connection: a keep-alive
        connection the backend closed at the moment it was reused fails this way, and Go's transport retries
        that case itself). Backends whose breaker refuses are skipped. Raises _NoBackend."""
        refused: set[str] = set()
        while True:
            available = [b for b in self._backends if b.url not in refused and b.available()]
            candidates = [b for b in available if b.url not in tried] or available
            if not candidates:
                raise _NoBackend
            backend = self.config.load_balancer.pick(candidates, client_ip_of(scope))
            if backend.breaker is None:
                return backend, None
            try:
                return backend, backend.breaker.acquire()
            except CircuitBreakerError:
                refused.add(backend.url)

    def _passive(self, backend: Backend, ok: bool) -> None:
        if ok:
            backend.consecutive_failures = 0
            if not backend.healthy and self.config.health_check is None:
                backend.healthy = True
            return
        backend.failures += 1
        backend.consecutive_failures += 1
        if backend.consecutive_failures >= self.config.failure_threshold and backend.healthy:
            backend.healthy = False
            _log.warning("gateway backend %s marked unhealthy after %d consecutive failures", backend.url,
                         backend.consecutive_failures)

    async def _proxy_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cfg = self.config
        length: bytes | None = None
        chunked = False
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                length = v
            elif k == b"transfer-encoding":
                chunked = True
        # HTTP/1.1 always frames a body; an HTTP/2 or HTTP/3 server may pass one with neither header.
        has_body = chunked or (
            length.strip() != b"0" if length is not None else scope.get("method") in ("POST", "PUT", "PATCH"))
        body_started = False
        client_gone = False

        async def body() -> AsyncIterator[bytes]:
            nonlocal body_started, client_gone
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    client_gone = True
                    raise _ClientGone
                body_started = True
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        path = self.upstream_path(scope)
        query = scope.get("query_string", b"")
        target = path + ("?" + query.decode("latin-1") if query else "")
        method = scope.get("method", "GET")
        tried: set[str] = set()
        attempts = cfg.retry_count + 1
        last_error: Exception | None = None
        for attempt in range(attempts):
            try:
                backend, ticket = self._pick(scope, tried)
            except _NoBackend:
                if last_error is None:
                    await self._fail(scope, receive, send, 503, "no healthy backend available")
                else:
                    await self._fail_for(scope, receive, send, last_error)
                return
            tried.add(backend.url)
            headers = self.request_headers(scope, backend)
            backend.active += 1
            backend.requests += 1
            try:
                try:
                    # Sent on the backend's pool as given: the backend sees the client's headers and nothing else.
                    response = await backend.send(method, backend.url + target, headers.items,
                                                  body() if has_body else None)
                except _ClientGone:
                    self._record(backend, ticket, True)
                    return
                except UpstreamError as exc:
                    if client_gone:          # the client left while its body was being forwarded
                        self._record(backend, ticket, True)
                        return
                    self._passive(backend, False)
                    self._record(backend, ticket, False)
                    last_error = exc
                    _log.warning("gateway %s %s via %s failed (attempt %d/%d): %r", method, path,
                                 backend.url, attempt + 1, attempts, exc)
                    if (has_body and body_started) or attempt + 1 == attempts:
                        await self._fail_for(scope, receive, send, exc)
                        return
                    await asyncio.sleep(cfg.retry_backoff * (attempt + 1))
                    continue
                self._passive(backend, True)
                ok = await self._relay(scope, send, backend, response)
                self._record(backend, ticket, ok and response.status < 500)
                return
            finally:
                backend.active -= 1
        if last_error is not None:  # pragma: no cover - the loop always returns
            await self._fail_for(scope, receive, send, last_error)

    @staticmethod
    def _record(backend: Backend, ticket: int | None, ok: bool) -> None:
        if backend.breaker is not None and ticket is not None:
            backend.breaker.record(ticket, ok)

    async def _relay(self, scope: Scope, send: Send, backend: Backend, response: UpstreamResponse) -> bool:
        """Stream the backend's answer to the client. False when the backend broke off mid-body."""
        try:
            cfg = self.config
            raw = [(k.lower(), v) for k, v in response.raw_headers]
            if cfg.remove_hop_by_hop:
                raw = _strip_hop_by_hop_raw(raw)
            if cfg.response_modifiers:
                headers = HeaderList()
                headers.items = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
                for modify in cfg.response_modifiers:
                    modify(headers)
                raw = headers.raw()
            await send({"type": "http.response.start", "status": response.status, "headers": raw})
            try:
                async for chunk in response.chunks():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except UpstreamError as exc:
                # Too late for an error status: return without finishing the response, so the ASGI server
                # closes the connection and the client sees the body was cut short.
                self._passive(backend, False)
                _log.warning("gateway backend %s broke off the response to %s: %r", backend.url,
                             scope.get("path"), exc)
                return False
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return True
        except OSError:  # the client went away mid-stream; nothing left to tell it
            return True
        finally:
            await response.aclose()

    async def _fail_for(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        if isinstance(exc, UpstreamTimeout):
            await self._fail(scope, receive, send, 504, "backend timed out")
        else:
            await self._fail(scope, receive, send, 502, "backend unavailable")

    async def _fail(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        code = {502: ErrorCode.BAD_GATEWAY, 503: ErrorCode.SERVICE_UNAVAILABLE, 504: ErrorCode.GATEWAY_TIMEOUT}
        category = ErrorCategory.TIMEOUT if status == 504 else ErrorCategory.SERVER
        err = APIError(status=status, code=code[status], message=message, category=category)
        if self.config.error_handler is not None:
            err = self.config.error_handler(scope, err)
        await ErrorResponse(err)(scope, receive, send)


def _strip_hop_by_hop_items(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``items`` (lowercase names) without the hop-by-hop headers and those the Connection header lists."""
    listed: set[str] = set()
    keep_te_trailers = False
    for k, v in items:
        if k == "connection":
            listed.update(t for t in (t.strip().lower() for t in v.split(",")) if t)
        elif k == "te" and any(t.strip().lower() == "trailers" for t in v.split(",")):
            keep_te_trailers = True
    out = [(k, v) for k, v in items if k not in HOP_BY_HOP and k not in listed]
    if keep_te_trailers:  # the one TE value that may pass (gRPC needs it), as Go's ReverseProxy does
        out.append(("te", "trailers"))
    return out


_HOP_BY_HOP_RAW = frozenset(h.encode() for h in HOP_BY_HOP)


def _strip_hop_by_hop_raw(items: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The same on raw (lowercase bytes) response headers."""
    listed: set[bytes] = set()
    keep_te_trailers = False
    for k, v in items:
        if k == b"connection":
            listed.update(t for t in (t.strip().lower() for t in v.split(b",")) if t)
        elif k == b"te" and any(t.strip().lower() == b"trailers" for t in v.split(b",")):
            keep_te_trailers = True
    out = [(k, v) for k, v in items if k not in _HOP_BY_HOP_RAW and k not in listed]
    if keep_te_trailers:
        out.append((b"te", b"trailers"))
    return out
