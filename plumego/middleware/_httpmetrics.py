"""HTTP-metrics middleware: reports every finished request to a plumego.metrics HTTPObserver.

Owns nothing but the measurement; names and labels belong to the observer. Imports only the standard
library, plumego.contract and plumego.metrics.
"""

from __future__ import annotations

from plumego.contract import ASGIApp, Middleware, Receive, Scope, Send, route_context_from_scope
from plumego.metrics import HTTPObserver
from plumego.middleware._asgi import run_measured


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

            def observe(status: int, written: int, elapsed: float) -> None:
                route = route_context_from_scope(scope)
                observer.observe(scope.get("method", ""), route.pattern if route else scope.get("path", ""),
                                 status, elapsed, written)

            await run_measured(app, scope, receive, send, observe)

        return http_metrics_app

    return wrap
