"""App: the ASGI 3 kernel. Explicit routes, middleware, mounts and lifecycle components; lifespan-driven
startup/shutdown with request draining; unhandled errors become the canonical 500 envelope.

The middleware chain is built once (first registered = outermost) around the router, at the first
request or at lifespan startup; the configured proxy trust (``AppConfig.trusted_proxies``) wraps it all.
Imports only the standard library and plumego.contract/router/middleware.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Final, Protocol

from plumego.contract import (
    APIError,
    ASGIApp,
    ClientDisconnect,
    ErrorResponse,
    ErrorType,
    Handler,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
)
from plumego.middleware import HeaderLayer, fuse_middleware, proxy_headers
from plumego.router import RouteGroup, RouteInfo, Router

from ._config import AppConfig
from ._lifecycle import LifecycleGroup

__all__ = ["App", "AppStateError", "Lifespan", "LoggerLike"]

STATE_MUTABLE: Final = "mutable"
STATE_PREPARED: Final = "prepared"


class LoggerLike(Protocol):
    """The logging surface core needs; ``logging.Logger`` satisfies it."""

    def info(self, msg: str, *args: object) -> None: ...

    def warning(self, msg: str, *args: object) -> None: ...

    def error(self, msg: str, *args: object, exc_info: BaseException | None = None) -> None: ...


Lifespan = Callable[["App"], AbstractAsyncContextManager[Mapping[str, Any] | None]]
"""``async with lifespan(app) as state:`` around the serving period; a yielded mapping is merged into
the lifespan ``scope["state"]``, which ASGI servers copy into every request scope."""


_HeadHooks = tuple[tuple[Callable[[Scope], Any], Callable[[list[tuple[bytes, bytes]], Any], Any]], ...]
"""``HeaderLayer.hooks``: (prepare, apply) pairs, outermost first."""


class AppStateError(RuntimeError):
    """Registration attempted after the app was prepared: ``core <operation>: <reason>``."""


class _WebSocketGuard:
    """Records how far a websocket session got (accepted, closed or denied), so a failure is answered once."""

    __slots__ = ("send", "accepted", "closed")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.accepted = False
        self.closed = False     # closed, or a denial response begun: nothing more can be said on it

    def __call__(self, message: Message) -> Awaitable[None]:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted = True
        elif kind in ("websocket.close", "websocket.http.response.start"):
            self.closed = True
        return self.send(message)


class App:
    """The plumego application: an ASGI 3 callable for ``http``, ``websocket`` and ``lifespan`` scopes.

    Handlers are ``async def handler(request) -> Response`` (sync handlers run in a worker thread).
    Middleware is pure ASGI (``Callable[[ASGIApp], ASGIApp]``); ``use`` order is execution order.
    """

    def __init__(
        self,
        config: AppConfig | None = None,
        *,
        logger: LoggerLike | None = None,
        lifespan: Lifespan | None = None,
    ) -> None:
        self._config = config if config is not None else AppConfig()
        self._logger: LoggerLike = logger if logger is not None else logging.getLogger("plumego")
        self._lifespan = lifespan
        self.router = Router(method_not_allowed=self._config.method_not_allowed)
        self.lifecycle = LifecycleGroup()
        self._middleware: list[Middleware] = []
        self._entry: ASGIApp | None = None
        # Header layers (request_id, security_headers) registered first: run by __call__ itself, in the send
        # wrapper it needs anyway, instead of as a layer of their own (see plumego.middleware._headerlayers).
        self._head: _HeadHooks = ()
        self._inflight = 0

    # --- configuration and state --------------------------------------------------------------
    @property
    def config(self) -> AppConfig:
        return self._config

    @property
    def logger(self) -> LoggerLike:
        return self._logger

    @property
    def preparation_state(self) -> str:
        """``"mutable"`` until the handler chain is built, then ``"prepared"``."""
        return STATE_MUTABLE if self._entry is None else STATE_PREPARED

    @property
    def inflight(self) -> int:
        """HTTP requests currently being handled."""
        return self._inflight

    def _check_mutable(self, operation: str, detail: str) -> None:
        if self._entry is not None:
            raise AppStateError(f"core {operation} {detail}: cannot change app after it has been prepared")

    # --- wiring -------------------------------------------------------------------------------
    def use(self, *middleware: Middleware) -> None:
        """Append middleware; all-or-nothing (a non-callable rejects the whole call)."""
        self._check_mutable("use_middleware", f"count={len(middleware)}")
        for index, mw in enumerate(middleware):
            if not callable(mw):
                raise TypeError(f"core use_middleware index={index}: middleware must be callable")
        self._middleware.extend(middleware)

    @property
    def middleware(self) -> tuple[Middleware, ...]:
        return tuple(self._middleware)

    def add_route(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        name: str = "",
        tags: Iterable[str] = (),
        middleware: Sequence[Middleware] = (),
    ) -> RouteInfo:
        self._check_mutable("add_route", f"method={method} path={path}")
        return self.router.add_route(method, path, handler, name=name, tags=tags, middleware=middleware)

    def get(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("GET", path, handler, **options)

    def post(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("POST", path, handler, **options)

    def put(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("PUT", path, handler, **options)

    def patch(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("PATCH", path, handler, **options)

    def delete(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("DELETE", path, handler, **options)

    def any(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("ANY", path, handler, **options)

    def websocket(self, path: str, app: ASGIApp, *, name: str = "") -> RouteInfo:
        """Serve ``websocket`` scopes on ``path`` with a raw ASGI app."""
        self._check_mutable("add_route", f"method=WEBSOCKET path={path}")
        return self.router.websocket(path, app, name=name)

    def mount(self, prefix: str, app: ASGIApp, *, name: str = "") -> RouteInfo:
        """Serve everything under ``prefix`` with another ASGI app (``root_path`` += prefix)."""
        self._check_mutable("mount", f"prefix={prefix}")
        return self.router.mount(prefix, app, name=name)

    def group(self, prefix: str, *middleware: Middleware) -> RouteGroup:
        """Routes under ``prefix``; ``middleware`` wraps only those routes (inside the app chain)."""
        self._check_mutable("group", f"prefix={prefix}")
        return self.router.group(prefix, *middleware)

    def add_component(self, name: str, component: object) -> None:
        """Register a lifecycle component (started at lifespan startup, in order)."""
        self._check_mutable("add_component", f"name={name}")
        self.lifecycle.add(name, component)

    def url(self, name: str, /, **params: Any) -> str:
        return self.router.url(name, **params)

    def routes(self) -> list[RouteInfo]:
        return self.router.routes()

    # --- preparation ----------------------------------------------------------------------------
    def prepare(self) -> ASGIApp:
        """Freeze the router and build the middleware chain once. Idempotent; returns the chain."""
        entry = self._entry
        if entry is None:
            self.router.freeze()
            if not self.router.routes():
                self._logger.warning("no routes registered; every request will answer 404")
            config = self._config
            chain = fuse_middleware(self._middleware)
            first = chain[0] if chain else None
            if isinstance(first, HeaderLayer) and not config.trusted_proxies and not config.trusted_proxy_hops:
                # Nothing runs between __call__ and the outermost middleware (proxy trust is unset): __call__
                # runs the leading header layers itself, exactly where their own layer would have run them.
                self._head = first.hooks
                del chain[0]
            entry = self.router
            for mw in reversed(chain):
                entry = mw(entry)
            # The one proxy-trust setting resolves the client before any middleware reads it (a no-op unset).
            entry = proxy_headers(trusted_proxies=config.trusted_proxies, hops=config.trusted_proxy_hops)(entry)
            self._entry = entry
        return entry

    # --- ASGI -----------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            entry = self._entry or self.prepare()
            self._inflight += 1
            started = False  # so a late failure is not answered twice
            found: list[tuple[Any, Any]] = []

            def guard(message: Message) -> Awaitable[None]:  # a closure: cheaper to call than an object
                nonlocal started
                started = True
                if found and message["type"] == "http.response.start":
                    # HeaderLayer.add_headers, inlined: the apply hooks innermost first, on a copy.
                    headers = list(message.get("headers") or ())
                    for apply, data in reversed(found):
                        headers = apply(headers, data)
                    message = {**message, "headers": headers}
                return send(message)

            try:
                # HeaderLayer.prepare_request, inlined (two frames fewer per request): prepare outermost first.
                for prepare, apply in self._head:
                    data = prepare(scope)
                    if data is not None:
                        found.append((apply, data))
                await entry(scope, receive, guard)
            except Exception as exc:
                await self._unhandled(exc, scope, receive, send, started)
            finally:
                self._inflight -= 1
        elif kind == "websocket":
            entry = self._entry or self.prepare()
            ws_guard = _WebSocketGuard(send)
            try:
                for prepare, _ in self._head:
                    prepare(scope)
                await entry(scope, receive, ws_guard)
            except Exception as exc:
                await self._unhandled_websocket(exc, scope, receive, ws_guard)
        elif kind == "lifespan":
            await self._run_lifespan(scope, receive, send)
        else:
            raise RuntimeError(f"plumego App cannot handle scope type {kind!r}")

    async def _unhandled(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send, started: bool
    ) -> None:
        if isinstance(exc, APIError) and not started:
            await ErrorResponse(exc)(scope, receive, send)
            return
        if isinstance(exc, ClientDisconnect):
            # The client hung up mid-body: not a server error, and nobody is left to answer.
            self._logger.info("client disconnected: %s %s", scope.get("method"), scope.get("path"))
            return
        self._logger.error(
            "unhandled exception in %s %s", scope.get("method"), scope.get("path"), exc_info=exc
        )
        if started:
            # Half-sent response: let the server abort the connection rather than append garbage.
            raise exc
        err = APIError(ErrorType.INTERNAL, "internal server error")
        await ErrorResponse(err)(scope, receive, send)

    async def _unhandled_websocket(
        self, exc: Exception, scope: Scope, receive: Receive, guard: _WebSocketGuard
    ) -> None:
        """A websocket endpoint raised: refuse the handshake with the envelope (an APIError's own status, else 500)
        when nothing was sent yet, close with 1011 when it was accepted, and log; never re-raise to the server."""
        if isinstance(exc, ClientDisconnect):
            return
        if not isinstance(exc, APIError):
            self._logger.error("unhandled exception in websocket %s", scope.get("path"), exc_info=exc)
        if guard.closed:
            return
        try:
            if not guard.accepted:
                err = exc if isinstance(exc, APIError) else APIError(ErrorType.INTERNAL, "internal server error")
                await ErrorResponse(err)(scope, receive, guard)
            else:
                await guard({"type": "websocket.close", "code": 1011})
        except Exception:               # the peer is already gone: nothing left to tell it
            pass

    # --- lifespan -------------------------------------------------------------------------------
    async def _run_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        context: AbstractAsyncContextManager[Mapping[str, Any] | None] | None = None
        try:
            self.prepare()
            await self.lifecycle.start()
            if self._lifespan is not None:
                context = self._lifespan(self)
                try:
                    state = await context.__aenter__()
                except BaseException:
                    context = None
                    await self.lifecycle.stop()
                    raise
                if state:
                    if "state" not in scope:
                        raise RuntimeError("the ASGI server does not support lifespan state")
                    scope["state"].update(state)
        except Exception as exc:
            self._logger.error("startup failed: %s", exc, exc_info=exc)
            await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
            return
        await send({"type": "lifespan.startup.complete"})

        message = await receive()
        errors: list[str] = []
        await self._drain()
        if context is not None:
            try:
                await context.__aexit__(None, None, None)
            except Exception as exc:
                errors.append(f"lifespan: {exc}")
        try:
            await self.lifecycle.stop()
        except Exception as exc:
            errors.append(str(exc))
        if errors:
            self._logger.error("shutdown failed: %s", "; ".join(errors))
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(errors)})
        else:
            await send({"type": "lifespan.shutdown.complete"})

    async def _drain(self) -> None:
        """Wait for in-flight requests (bounded by ``shutdown_timeout``), logging progress."""
        if self._inflight == 0:
            return
        interval = self._config.drain_interval or 0.5
        deadline = time.monotonic() + self._config.shutdown_timeout
        while self._inflight > 0 and time.monotonic() < deadline:
            self._logger.info("draining open connections: open_connections=%d", self._inflight)
            await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        if self._inflight > 0:
            self._logger.warning("shutdown timeout with %d request(s) still open", self._inflight)

    # --- serving ------------------------------------------------------------------------------
    def run(self, **overrides: Any) -> None:
        """Serve with uvicorn using ``config`` (keyword overrides go to uvicorn). Blocks."""
        from ._serve import serve

        serve(self, self._config, **overrides)

    async def ready(self) -> None:
        """Readiness of every lifecycle component (raises LifecycleError naming the failures)."""
        await self.lifecycle.ready()
