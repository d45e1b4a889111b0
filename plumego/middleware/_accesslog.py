"""Access-log middleware: one structured INFO line per finished HTTP request.

Owns the access-log field set. Imports only the standard library, plumego.contract and plumego.log
(which redacts secret-looking fields).
"""

from __future__ import annotations

from plumego.contract import (
    ASGIApp,
    Middleware,
    Receive,
    Scope,
    Send,
    request_id_from_scope,
    route_context_from_scope,
    trace_context_from_scope,
)
from plumego.log import Level, StructuredLogger
from plumego.middleware._asgi import go_duration, header_value, run_measured


def client_ip(scope: Scope) -> str:
    """First ``X-Forwarded-For`` entry, else ``X-Real-IP``, else the peer address (as Go plumego does)."""
    forwarded = header_value(scope, b"x-forwarded-for")
    if forwarded:
        first = forwarded.split(b",", 1)[0].strip()
        if first:
            return first.decode("latin-1")
    real = header_value(scope, b"x-real-ip")
    if real and real.strip():
        return real.strip().decode("latin-1")
    client = scope.get("client")
    if client:
        return str(client[0])
    return ""


def access_log(logger: StructuredLogger) -> Middleware:
    """Log ``"request completed"`` after every HTTP request, also when the inner app raises (then with
    status 500 unless a status was already sent, and the exception is re-raised).

    Fields: ``method, path, status, duration`` (Go duration string), ``duration_ms``, ``request_id,
    bytes, user_agent, client_ip, route, route_name, span_id``. ``route`` is the matched pattern when a
    router ran inside this middleware on the same scope, else empty.
    """
    if logger is None:
        raise ValueError("access_log middleware needs a logger")

    def wrap(app: ASGIApp) -> ASGIApp:
        async def access_log_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not logger.enabled(Level.INFO):
                await app(scope, receive, send)
                return
            await run_measured(app, scope, receive, send,
                               lambda status, written, elapsed: _log(scope, status, written, elapsed))

        def _log(scope: Scope, status: int, written: int, elapsed: float) -> None:
            route = route_context_from_scope(scope)
            trace = trace_context_from_scope(scope)
            user_agent = header_value(scope, b"user-agent")
            logger.info(
                "request completed",
                {
                    "method": scope.get("method", ""),
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration": go_duration(elapsed),
                    "duration_ms": round(elapsed * 1000, 3),
                    "request_id": request_id_from_scope(scope),
                    "bytes": written,
                    "user_agent": user_agent.decode("latin-1") if user_agent else "",
                    "client_ip": client_ip(scope),
                    "route": route.pattern if route else "",
                    "route_name": route.name if route else "",
                    "span_id": trace.span_id if trace else "",
                },
            )

        return access_log_app

    return wrap
