"""Timeout middleware: cancels a handler that runs past its deadline and answers 504.

Owns the per-request deadline. Unlike Go plumego it does not buffer the response: the handler is
cancelled (Python can, Go cannot), so streaming keeps working. Imports only the standard library and
plumego.contract.
"""

from __future__ import annotations

import asyncio

from plumego.contract import APIError, ASGIApp, ErrorCode, ErrorType, Message, Middleware, Receive, Scope, Send
from plumego.middleware._asgi import send_error


class ResponseTimeout(Exception):
    """Raised when the deadline passes after the response has started: the server aborts the connection."""


def timeout(seconds: float) -> Middleware:
    """Cancel the inner app of an HTTP request after ``seconds`` (``<= 0`` disables the middleware).

    If nothing was sent yet the client gets 504 ``gateway_timeout`` / code ``TIMEOUT`` /
    ``"request timed out"``. If the response had already started, the remaining body can no longer be
    replaced, so :class:`ResponseTimeout` is raised and the server drops the connection (a truncated
    response must not look complete). Sends attempted after the deadline are dropped. A ``TimeoutError``
    raised by the handler itself before the deadline propagates unchanged.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        if seconds <= 0:
            return app

        async def timeout_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = False
            expired = False

            async def deadline_send(message: Message) -> None:
                nonlocal started
                if expired:
                    return
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            deadline = asyncio.timeout(seconds)
            try:
                async with deadline:
                    await app(scope, receive, deadline_send)
            except TimeoutError:
                if not deadline.expired():
                    raise
                expired = True
                if started:
                    raise ResponseTimeout(f"request exceeded {seconds:g}s after the response started") from None
                err = APIError(ErrorType.GATEWAY_TIMEOUT, "request timed out", code=ErrorCode.TIMEOUT)
                await send_error(scope, send, err)

        return timeout_app

    return wrap
