"""HTTP-metrics middleware: reports every finished request to a plumego.metrics HTTPObserver.

Owns nothing but the measurement; names and labels belong to the observer. Imports only the standard
library, plumego.contract and plumego.metrics.
"""

from __future__ import annotations

import time

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send, route_context_from_scope
from plumego.metrics import HTTPObserver


def http_metrics(observer: HTTPObserver | None) -> Middleware:
    """Call ``observer.observe(method, route, status, duration_seconds, bytes_written)`` once per request.

    ``route`` is the matched route pattern when a router ran inside on the same scope (bounded label
    cardinality), else the raw path. A raising observer never affects the response; an exception from
    the inner app is observed as status 500 (unless already sent) and re-raised. ``None`` disables it.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        if observer is None:
            return app

        async def http_metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            status = 0
            written = 0
            began = time.perf_counter()

            async def counting_send(message: Message) -> None:
                nonlocal status, written
                kind = message["type"]
                if kind == "http.response.body":
                    written += len(message.get("body", b""))
                elif kind == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, counting_send)
            except BaseException:
                if status == 0:
                    status = 500
                raise
            finally:
                route = route_context_from_scope(scope)
                try:
                    observer.observe(
                        scope.get("method", ""),
                        route.pattern if route else scope.get("path", ""),
                        status,
                        time.perf_counter() - began,
                        written,
                    )
                except Exception:  # noqa: BLE001 - metrics must never break a response
                    pass

        return http_metrics_app

    return wrap
