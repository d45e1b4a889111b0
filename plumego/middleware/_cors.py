"""CORS middleware: answers preflight requests and decorates simple responses for allowed origins.

Owns origin/method/header matching and the ``Access-Control-*`` and ``Vary`` headers. It never denies
a request: a disallowed origin simply gets no CORS headers and the browser enforces the policy.
Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Final

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send

DEFAULT_ALLOWED_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_ALLOWED_HEADERS: Final = ("Accept", "Accept-Language", "Content-Language", "Content-Type", "Authorization")
_PREFLIGHT_VARY: Final = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def _add_vary(headers: list[tuple[bytes, bytes]], value: bytes) -> list[tuple[bytes, bytes]]:
    """Merge ``value`` (comma list) into an existing ``Vary`` header instead of adding a second one."""
    for index, (key, existing) in enumerate(headers):
        if bytes(key).lower() == b"vary":
            present = {item.strip().lower() for item in bytes(existing).split(b",")}
            if b"*" in present:
                return headers
            missing = [item.strip() for item in value.split(b",") if item.strip().lower() not in present]
            if missing:
                headers[index] = (b"vary", bytes(existing) + b", " + b", ".join(missing))
            return headers
    headers.append((b"vary", value))
    return headers


def cors(
    *,
    allowed_origins: Sequence[str] = ("*",),
    allowed_methods: Sequence[str] = DEFAULT_ALLOWED_METHODS,
    allowed_headers: Sequence[str] = DEFAULT_ALLOWED_HEADERS,
    allow_credentials: bool = False,
    expose_headers: Sequence[str] = (),
    max_age: int = 0,
) -> Middleware:
    """Cross-origin resource sharing with Go plumego's defaults and rules.

    Requests without ``Origin`` pass through untouched. A preflight (``OPTIONS`` with
    ``Access-Control-Request-Method``) from an allowed origin for an allowed method and headers is
    answered 204 by the middleware; any other preflight goes to the app without CORS headers.
    ``"*"`` in ``allowed_origins`` allows every origin (echoed instead of ``*`` when credentials are
    allowed, as browsers require); ``"*"`` in ``allowed_headers`` allows any request header. When the
    origin list is not ``*``, every response carries ``Vary: Origin`` so caches keep origins apart.
    """
    origins = [origin.strip().lower().rstrip("/") for origin in allowed_origins if origin.strip()]
    any_origin = "*" in origins
    origin_set = frozenset(origins)
    methods = [method.strip().upper() for method in allowed_methods if method.strip()]
    method_set = frozenset(methods)
    header_list = [header.strip() for header in allowed_headers if header.strip()]
    any_header = "*" in header_list
    header_set = frozenset(header.lower() for header in header_list)
    allow_methods_value = ", ".join(methods).encode("latin-1")
    allow_headers_value = ", ".join(header_list).encode("latin-1")
    expose_value = ", ".join(h.strip() for h in expose_headers if h.strip()).encode("latin-1")
    if max_age < 0:
        raise ValueError("max_age must be >= 0")

    def origin_header(origin: bytes) -> bytes | None:
        folded = origin.decode("latin-1").strip().lower().rstrip("/")
        if any_origin:
            return origin if allow_credentials else b"*"
        if folded in origin_set:
            return origin
        return None

    def wrap(app: ASGIApp) -> ASGIApp:
        async def cors_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            origin: bytes | None = None
            request_method: bytes | None = None
            request_headers: bytes | None = None
            for key, value in scope.get("headers") or ():
                if key == b"origin":
                    origin = value
                elif key == b"access-control-request-method":
                    request_method = value
                elif key == b"access-control-request-headers":
                    request_headers = value
            if origin is None:
                await app(scope, receive, send)
                return
            allow_origin = origin_header(origin)

            if scope.get("method") == "OPTIONS" and request_method is not None:
                if allow_origin is not None and _preflight_allowed(request_method, request_headers):
                    await _send_preflight(send, allow_origin, request_headers)
                    return
                await app(scope, receive, _vary_only(send) if not any_origin else send)
                return

            if allow_origin is None:
                await app(scope, receive, _vary_only(send) if not any_origin else send)
                return

            def cors_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers") or () if not _is_cors_header(k)]
                    headers.append((b"access-control-allow-origin", allow_origin))
                    if allow_credentials:
                        headers.append((b"access-control-allow-credentials", b"true"))
                    if expose_value:
                        headers.append((b"access-control-expose-headers", expose_value))
                    if allow_origin != b"*":
                        headers = _add_vary(headers, b"Origin")
                    message = {**message, "headers": headers}
                return send(message)

            await app(scope, receive, cors_send)

        return cors_app

    def _preflight_allowed(request_method: bytes, request_headers: bytes | None) -> bool:
        if request_method.decode("latin-1").strip().upper() not in method_set:
            return False
        if any_header or not request_headers:
            return True
        requested = [h.strip().lower() for h in request_headers.decode("latin-1").split(",") if h.strip()]
        return all(h in header_set for h in requested)

    async def _send_preflight(send: Send, allow_origin: bytes, request_headers: bytes | None) -> None:
        headers: list[tuple[bytes, bytes]] = [
            (b"vary", _PREFLIGHT_VARY),
            (b"access-control-allow-origin", allow_origin),
        ]
        if allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        headers.append((b"access-control-allow-methods", allow_methods_value))
        if request_headers and request_headers.strip():
            headers.append((b"access-control-allow-headers", request_headers.strip()))
        elif allow_headers_value:
            headers.append((b"access-control-allow-headers", allow_headers_value))
        if max_age > 0:
            headers.append((b"access-control-max-age", str(max_age).encode("ascii")))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return wrap


def _is_cors_header(name: bytes) -> bool:
    return bytes(name).lower().startswith(b"access-control-")


def _vary_only(send: Send) -> Send:
    def vary_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
        if message["type"] == "http.response.start":
            message = {**message, "headers": _add_vary(list(message.get("headers") or ()), b"Origin")}
        return send(message)

    return vary_send
