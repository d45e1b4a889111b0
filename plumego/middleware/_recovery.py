"""Recovery middleware: turns an unhandled exception into the canonical 500 envelope.

Owns the last line of defence between a handler bug and the client: the traceback is logged server-side
and never sent. Imports only the standard library, plumego.contract and plumego.log.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable

from plumego.contract import APIError, ASGIApp, ClientDisconnect, ErrorType, Message, Middleware, Receive, Scope, Send
from plumego.contract import request_id_from_scope
from plumego.log import StructuredLogger
from plumego.middleware._asgi import go_duration, send_error


def recovery(logger: StructuredLogger) -> Middleware:
    """Catch exceptions escaping the inner app of an HTTP request.

    Logs ``"panic recovered"`` at ERROR with ``method, path, status=500, duration, request_id,
    panic_type, traceback``. An :class:`~plumego.contract.APIError` is client-safe by design and
    answers its own envelope (not logged). For anything else, if no response has started, answers
    500 ``internal_error`` / ``INTERNAL_ERROR`` / ``"internal server error"``. If the response already
    started, nothing sensible can be sent any more: the exception is re-raised so the server aborts the
    connection and the client sees a broken response instead of a silently truncated one. Cancellation
    is never caught. A :class:`~plumego.contract.ClientDisconnect` (the client hung up while sending the
    body) is not a panic: nothing is logged here and nothing is sent (the access log records the request
    with status 499).
    """
    if logger is None:
        raise ValueError("recovery middleware needs a logger")

    def wrap(app: ASGIApp) -> ASGIApp:
        async def recovery_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = False
            began = time.perf_counter()

            def tracking_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                return send(message)

            try:
                await app(scope, receive, tracking_send)
            except ClientDisconnect:
                return  # nobody is left to answer, and it is not a server error
            except APIError as exc:
                if started:
                    raise
                # Deliberate, client-safe errors raised by raw ASGI code answer their own envelope.
                await send_error(scope, send, exc)
            except Exception as exc:
                try:
                    logger.error(
                        "panic recovered",
                        {
                            "method": scope.get("method", ""),
                            "path": scope.get("path", ""),
                            "status": 500,
                            "duration": go_duration(time.perf_counter() - began),
                            "request_id": request_id_from_scope(scope),
                            "panic_type": type(exc).__qualname__,
                            "response_started": started,
                            "traceback": "".join(traceback.format_exception(exc)),
                        },
                    )
                except Exception:  # noqa: BLE001 - a broken log sink must not stop the 500
                    pass
                if started:
                    raise
                await send_error(scope, send, APIError(ErrorType.INTERNAL, "internal server error"))

        return recovery_app

    return wrap
