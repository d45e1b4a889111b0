"""Body-limit middleware: rejects request bodies larger than a configured size with a 413 envelope.

Owns both checks: a declared ``Content-Length`` over the limit (rejected before the app runs) and a
streamed body (chunked or lying about its length) that crosses the limit while being read. Imports
only the standard library, plumego.contract and plumego.log.
"""

from __future__ import annotations

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
from plumego.middleware._asgi import header_value, send_error

_MESSAGE = "request body exceeds configured limit"


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


def body_limit(max_bytes: int, *, logger: StructuredLogger | None = None) -> Middleware:
    """Limit HTTP request bodies to ``max_bytes`` (``<= 0`` disables the middleware).

    A ``Content-Length`` above the limit is answered at once with 413 ``payload_too_large`` /
    ``REQUEST_BODY_TOO_LARGE`` / ``"request body exceeds configured limit"``, details
    ``{max_bytes, seen_bytes, at: "content_length"}``, without running the app. Otherwise the body is
    counted as the app reads it; on overrun the 413 is sent (if the response has not started), later
    sends of the app are dropped, and ``receive()`` raises :class:`RequestBodyTooLarge`. A WARN line is
    logged when ``logger`` is given.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        if max_bytes <= 0:
            return app

        async def body_limit_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            declared = header_value(scope, b"content-length")
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
                    await send_error(scope, send, err, [(b"connection", b"close")])
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
                            await send_error(scope, send, rejected, [(b"connection", b"close")])
                        raise rejected
                return message

            async def guarded_send(message: Message) -> None:
                nonlocal started
                if rejected is not None and not started:
                    return  # the 413 went out instead of this response
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                await app(scope, limited_receive, guarded_send)
            except RequestBodyTooLarge as exc:
                if exc is not rejected or started:
                    raise

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
