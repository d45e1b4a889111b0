"""Body-limit middleware: rejects request bodies larger than a configured size with a 413 envelope.

Owns both checks: a declared ``Content-Length`` over the limit (rejected before the app runs) and a
streamed body (chunked or lying about its length) that crosses the limit while being read, and how the
413 leaves a keep-alive connection (a bounded remainder discarded, or a graceful close). Imports only
the standard library, plumego.contract and plumego.log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Final

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorType,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
    parse_int,
    request_id_from_scope,
)
from plumego.log import StructuredLogger
from plumego.middleware._asgi import error_response, header_value

_MESSAGE = "request body exceeds configured limit"
_CLOSE: Final = [(b"connection", b"close")]
_FRAMED_BY_HEADERS: Final = frozenset({"1.0", "1.1"})

DEFAULT_DISCARD_BYTES: Final = 256 * 1024
"""Unread body a 413 may discard to keep the connection open (Go's net/http discards up to 256 KiB)."""
DEFAULT_DRAIN_SECONDS: Final = 0.5
"""How long a 413 keeps reading an unwanted body, in all (Go waits 500 ms before closing, to avoid a reset)."""


class RequestBodyTooLarge(APIError):
    """Raised by ``receive()`` inside :func:`body_limit` once the body crosses the limit.

    Handlers may let it propagate: the middleware has already answered 413 when it could.
    """

    def __init__(self, max_bytes: int, seen_bytes: int, request_id: str = "") -> None:
        super().__init__(
            ErrorType.PAYLOAD_TOO_LARGE,
            _MESSAGE,
            details={"max_bytes": max_bytes, "seen_bytes": seen_bytes, "at": "body"},
            request_id=request_id,
        )
        self.max_bytes = max_bytes
        self.seen_bytes = seen_bytes


async def _dropped() -> None:
    """What a send dropped after the 413 awaits."""


async def _discard(receive: Receive, limit: int | None) -> bool:
    """Read and drop request body messages; True once the body ended, False on disconnect or past ``limit``."""
    dropped = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
        if limit is not None and dropped > limit:
            return False


def body_limit(
    max_bytes: int,
    *,
    logger: StructuredLogger | None = None,
    discard_bytes: int = DEFAULT_DISCARD_BYTES,
    drain_seconds: float = DEFAULT_DRAIN_SECONDS,
) -> Middleware:
    """Limit HTTP request bodies to ``max_bytes`` (``<= 0`` disables the middleware).

    A ``Content-Length`` above the limit is answered at once with 413 ``payload_too_large`` /
    ``REQUEST_BODY_TOO_LARGE`` / ``"request body exceeds configured limit"``, details
    ``{max_bytes, seen_bytes, at: "content_length"}``, without running the app. Otherwise the body is
    counted as the app reads it; on overrun the 413 is sent (if the response has not started), later
    sends of the app are dropped, and ``receive()`` raises :class:`RequestBodyTooLarge`. A WARN line is
    logged when ``logger`` is given.

    The client always gets to read the 413, also on a pooled keep-alive connection:

    - when at most ``discard_bytes`` of body are left, they are read and dropped and the 413 keeps the
      connection open (Go discards up to 256 KiB the same way);
    - otherwise the 413 carries ``Connection: close``, and the middleware keeps reading what the client
      is still sending until the body ends or ``drain_seconds`` have passed before it finishes the
      response, so the server closes a connection with nothing unread (a close with unread data is a TCP
      reset, which can destroy the 413 before the client reads it). A body that is still arriving after
      ``drain_seconds`` is cut off: only such a client can see a reset.
    - a request sent with ``Expect: 100-continue`` whose body was never asked for gets the 413 with
      ``Connection: close`` at once: its client has not sent the body.

    All of this reading is bounded by ``drain_seconds`` in total.
    """
    if discard_bytes < 0 or drain_seconds < 0:
        raise ValueError("discard_bytes and drain_seconds must be >= 0")

    def wrap(app: ASGIApp) -> ASGIApp:
        if max_bytes <= 0:
            return app

        async def body_limit_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            declared: bytes | None = None
            chunked = False
            for key, value in scope.get("headers") or ():
                if key == b"content-length":
                    declared = value
                elif key == b"transfer-encoding":
                    chunked = True
            if declared is None and not chunked and scope.get("http_version") in _FRAMED_BY_HEADERS:
                # HTTP/1.x frames a body only by these two headers: without them there is none to count.
                await app(scope, receive, send)
                return
            if declared is not None:
                try:
                    length = parse_int(declared, minimum=0)
                except ValueError:
                    length = -1  # malformed: the server rejects it; count the stream instead
                if length > max_bytes:
                    _warn(scope, length, "content_length")
                    err = APIError(
                        ErrorType.PAYLOAD_TOO_LARGE,
                        _MESSAGE,
                        details={"max_bytes": max_bytes, "seen_bytes": length, "at": "content_length"},
                    )
                    expect = header_value(scope, b"expect")
                    waiting = expect is not None and expect.strip().lower() == b"100-continue"
                    await _answer(scope, receive, send, err, ended=False, waiting=waiting, left=length)
                    return

            seen = 0
            started = False
            rejected: RequestBodyTooLarge | None = None

            async def limited_receive() -> Message:
                nonlocal seen, rejected
                if rejected is not None:
                    raise rejected
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > max_bytes:
                        rejected = RequestBodyTooLarge(max_bytes, seen, request_id_from_scope(scope))
                        _warn(scope, seen, "body")
                        if not started:
                            ended = not message.get("more_body", False)
                            await _answer(scope, receive, send, rejected, ended=ended, waiting=False, left=None)
                        raise rejected
                return message

            def guarded_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
                nonlocal started
                if rejected is not None and not started:
                    return _dropped()  # the 413 went out instead of this response
                if message["type"] == "http.response.start":
                    started = True
                return send(message)

            try:
                await app(scope, limited_receive, guarded_send)
            except RequestBodyTooLarge as exc:
                if exc is not rejected or started:
                    raise

        async def _answer(
            scope: Scope, receive: Receive, send: Send, err: APIError, *, ended: bool, waiting: bool, left: int | None
        ) -> None:
            """Send the 413 so that the client reads it: keep-alive after a bounded discard, else a graceful close.

            ``ended``: the body was read to its end already; ``waiting``: the client waits for 100 Continue;
            ``left``: the bytes of body still to come when known.
            """
            deadline = asyncio.get_running_loop().time() + drain_seconds
            try:
                async with asyncio.timeout_at(deadline):
                    if not ended and not waiting and (left is None or left <= discard_bytes):
                        ended = await _discard(receive, discard_bytes)
            except TimeoutError:
                ended = False
            if ended:
                start, body = error_response(scope, err)
                await send(start)
                await send(body)
                return
            start, body = error_response(scope, err, _CLOSE)
            await send(start)
            if waiting:
                await send(body)
                return
            # RST avoidance: the client may still be sending. Consume what arrives (within the same time
            # budget) before the last body message lets the server close the connection.
            await send({**body, "more_body": True})
            try:
                async with asyncio.timeout_at(deadline):
                    await _discard(receive, None)
            except TimeoutError:
                pass
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        def _warn(scope: Scope, seen_bytes: int, at: str) -> None:
            if logger is None:
                return
            try:
                logger.warn(
                    "request body too large",
                    {
                        "method": scope.get("method", ""),
                        "path": scope.get("path", ""),
                        "max_bytes": max_bytes,
                        "seen_bytes": seen_bytes,
                        "at": at,
                        "request_id": request_id_from_scope(scope),
                    },
                )
            except Exception:  # noqa: BLE001 - a broken log sink must not stop the 413
                pass

        return body_limit_app

    return wrap
