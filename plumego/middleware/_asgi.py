"""Small ASGI helpers shared by the middleware: header lookup, the canonical error envelope and
measuring a finished request (status, bytes, duration) for httpmetrics and tracing (accesslog inlines it).

Owns nothing public. Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from plumego.contract import (
    APIError,
    ASGIApp,
    ClientDisconnect,
    Message,
    Receive,
    Scope,
    Send,
    encode_error_envelope,
    request_id_from_scope,
)

JSON_CONTENT_TYPE = b"application/json"
CLIENT_CLOSED_REQUEST = 499
"""Status recorded (never sent) for a request whose client disconnected first: nginx's "client closed request"."""


def header_value(scope: Scope, name: bytes) -> bytes | None:
    """First value of request header ``name`` (lowercase bytes), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def error_response(
    scope: Scope, err: APIError, extra_headers: Iterable[tuple[bytes, bytes]] = ()
) -> tuple[dict[str, object], dict[str, object]]:
    """The ``http.response.start`` and ``http.response.body`` messages answering ``err`` as an envelope.

    The request id stored in the scope fills ``request_id`` when the error carries none.
    """
    body = encode_error_envelope(err, request_id_from_scope(scope))
    headers = [
        (b"content-type", JSON_CONTENT_TYPE),
        (b"content-length", str(len(body)).encode("ascii")),
        *extra_headers,
    ]
    start: dict[str, object] = {"type": "http.response.start", "status": err.status, "headers": headers}
    if scope.get("method") == "HEAD":
        return start, {"type": "http.response.body", "body": b"", "more_body": False}
    return start, {"type": "http.response.body", "body": body, "more_body": False}


async def send_error(
    scope: Scope, send: Send, err: APIError, extra_headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer the request with ``err`` as the canonical JSON error envelope."""
    start, body = error_response(scope, err, extra_headers)
    await send(start)
    await send(body)


def go_duration(seconds: float) -> str:
    """Render a duration like Go's ``time.Duration.String`` (``1.5s``, ``12.3ms``, ``850µs``, ``0s``).

    Integer arithmetic on nanoseconds, as Go does: exact digits, no float formatting on the hot path.
    """
    return go_duration_ns(round(seconds * 1e9))


def go_duration_ns(nanos: int) -> str:
    """:func:`go_duration` of a whole number of nanoseconds (what ``time.perf_counter_ns`` differences give)."""
    if nanos == 0:
        return "0s"
    sign = ""
    if nanos < 0:
        sign, nanos = "-", -nanos
    if nanos < 1_000:
        return f"{sign}{nanos}ns"
    if nanos < 1_000_000:
        whole, frac = divmod(nanos, 1_000)
        return f"{sign}{whole}{_fraction(frac, 1_000)}µs"
    if nanos < 1_000_000_000:
        whole, frac = divmod(nanos, 1_000_000)
        return f"{sign}{whole}{_fraction(frac, 1_000_000)}ms"
    total, frac = divmod(nanos, 1_000_000_000)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    head = f"{hours}h{minutes}m" if hours else (f"{minutes}m" if minutes else "")
    return f"{sign}{head}{secs}{_fraction(frac, 1_000_000_000)}s"


def _fraction(frac: int, scale: int) -> str:
    """``.ddd`` for ``frac / scale`` without trailing zeros, ``""`` when zero."""
    if not frac:
        return ""
    return "." + str(scale + frac)[1:].rstrip("0")


async def run_measured(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, done: Callable[[int, int, float], None]
) -> None:
    """Run ``app``, then call ``done(status, bytes_written, elapsed_seconds)`` exactly once.

    An exception from the app is reported as status 500 (unless a status was already sent) and
    re-raised, a client disconnect as 499; an exception from ``done`` never masks the response or the
    app's error.
    """
    status = 0
    written = 0
    began = time.perf_counter()

    def counting_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
        nonlocal status, written
        kind = message["type"]
        if kind == "http.response.body":
            written += len(message.get("body", b""))
        elif kind == "http.response.start":
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
            done(status, written, time.perf_counter() - began)
        except Exception:  # noqa: BLE001 - logging or metrics must never break a response
            pass
