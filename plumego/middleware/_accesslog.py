"""Access-log middleware: one structured INFO line per finished HTTP request.

Owns the access-log field set and the caps on request-controlled fields. Imports only the standard
library, plumego.contract and plumego.log (which redacts secret-looking fields and escapes unsafe
characters).
"""

from __future__ import annotations

from collections.abc import Awaitable
from time import perf_counter_ns
from typing import Final

from plumego.contract import (
    SCOPE_REQUEST_ID,
    SCOPE_ROUTE,
    SCOPE_TRACE,
    ASGIApp,
    ClientDisconnect,
    Message,
    Middleware,
    Receive,
    RouteContext,
    Scope,
    Send,
    TraceContext,
    request_id_from_scope,
)
from plumego.log import Level, StructuredLogger, truncate
from plumego.middleware._asgi import CLIENT_CLOSED_REQUEST, go_duration_ns

# Caps for the fields a client controls; longer values keep their head and a "...[truncated N chars]" marker.
MAX_PATH_CHARS: Final = 2048
MAX_USER_AGENT_CHARS: Final = 512
MAX_METHOD_CHARS: Final = 32
MAX_CLIENT_IP_CHARS: Final = 128
_INFO: Final = Level.INFO  # a module constant: reading Level.INFO per request goes through the enum class


def client_ip(scope: Scope) -> str:
    """The client address the server put in ``scope["client"]``, ``""`` when it gave none.

    Forwarding headers (``X-Forwarded-For``, ``X-Real-IP``) are not read here: any client can send them.
    Behind a proxy, the server resolves the trusted client address into ``scope["client"]``.
    """
    client = scope.get("client")
    if client:
        return truncate(str(client[0]), MAX_CLIENT_IP_CHARS)
    return ""


def access_log(logger: StructuredLogger) -> Middleware:
    """Log ``"request completed"`` after every HTTP request, also when the inner app raises (then with
    status 500 unless a status was already sent, and the exception is re-raised).

    Fields: ``method, path, status, duration`` (Go duration string), ``duration_ms``, ``request_id,
    bytes, user_agent, client_ip, route, route_name, span_id``. ``route`` is the matched pattern when a
    router ran inside this middleware on the same scope, else empty. ``client_ip`` is the server's
    ``scope["client"]`` address (see :func:`client_ip`). ``path`` (2048), ``user_agent`` (512) and
    ``method`` (32) are capped in characters; the logger escapes control and separator characters.

    A client that disconnected before a response was sent is logged at INFO with status 499 (nginx's
    "client closed request"), once, without a traceback.
    """
    if logger is None:
        raise ValueError("access_log middleware needs a logger")

    def wrap(app: ASGIApp) -> ASGIApp:
        async def access_log_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not logger.enabled(_INFO):
                await app(scope, receive, send)
                return
            status = 0
            written = 0
            began = perf_counter_ns()

            def counting_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
                nonlocal status, written
                if message["type"] == "http.response.body":
                    written += len(message.get("body", b""))
                elif message["type"] == "http.response.start":
                    status = message["status"]
                return send(message)

            try:
                await app(scope, receive, counting_send)
            except ClientDisconnect:
                if status == 0:
                    status = CLIENT_CLOSED_REQUEST
                raise
            except BaseException:
                if status == 0:
                    status = 500
                raise
            finally:
                try:
                    _log(scope, status, written, perf_counter_ns() - began)
                except Exception:  # noqa: BLE001 - logging must never break a response
                    pass

        return access_log_app

    def _log(scope: Scope, status: int, written: int, nanos: int) -> None:
        # One frame builds the line's fields: the scope carriers and caps are read inline (this runs per request).
        user_agent = ""
        for key, value in scope.get("headers") or ():
            if key == b"user-agent":
                user_agent = value.decode("latin-1")
                if len(user_agent) > MAX_USER_AGENT_CHARS:
                    user_agent = truncate(user_agent, MAX_USER_AGENT_CHARS)
                break
        client = scope.get("client")
        address = client[0] if client else ""
        if type(address) is not str:
            address = str(address)
        if len(address) > MAX_CLIENT_IP_CHARS:
            address = truncate(address, MAX_CLIENT_IP_CHARS)
        path = scope.get("path", "")
        if len(path) > MAX_PATH_CHARS:
            path = truncate(path, MAX_PATH_CHARS)
        method = scope.get("method", "")
        if len(method) > MAX_METHOD_CHARS:
            method = truncate(method, MAX_METHOD_CHARS)
        rid = scope.get(SCOPE_REQUEST_ID)
        route = scope.get(SCOPE_ROUTE)
        trace = scope.get(SCOPE_TRACE)
        routed = isinstance(route, RouteContext)
        logger.info(
            "request completed",
            {
                "method": method,
                "path": path,
                "status": status,
                "duration": go_duration_ns(nanos),
                "duration_ms": ((nanos + 500) // 1000) / 1000,  # whole microseconds, as a float of milliseconds
                "request_id": rid if type(rid) is str else request_id_from_scope(scope),
                "bytes": written,
                "user_agent": user_agent,
                "client_ip": address,
                "route": route.pattern if routed else "",  # type: ignore[union-attr]
                "route_name": route.name if routed else "",  # type: ignore[union-attr]
                "span_id": trace.span_id if isinstance(trace, TraceContext) else "",
            },
        )

    return wrap
