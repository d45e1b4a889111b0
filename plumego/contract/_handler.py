"""Adapts a plumego handler (``Request -> Response``, async or sync) to an ASGI app, once per route.

APIError raised by a handler becomes its error envelope; any other exception propagates to the
caller (core turns it into a 500 envelope and logs it). Imports only the standard library.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from ._errors import APIError
from ._request import Request
from ._response import ErrorResponse
from ._types import ASGIApp, Receive, Scope, Send

__all__ = ["AsyncHandler", "Handler", "HandlerApp", "ResponseApp", "SyncHandler", "is_async_callable"]

ResponseApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
"""Anything a handler may return: a Response, or any other ASGI app."""

AsyncHandler: TypeAlias = Callable[[Request], Awaitable[ResponseApp]]
SyncHandler: TypeAlias = Callable[[Request], ResponseApp]
Handler: TypeAlias = AsyncHandler | SyncHandler


def is_async_callable(obj: Any) -> bool:
    """True for ``async def`` functions, partials of them and objects with an ``async def __call__``."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(getattr(obj, "__call__", None))
    )


class HandlerApp:
    """ASGI app calling ``handler(Request(scope, receive))`` and then the returned response app.

    Sync handlers run in a worker thread (``asyncio.to_thread``, which keeps contextvars).
    """

    __slots__ = ("handler", "is_async", "__wrapped__")

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {type(handler).__name__}")
        self.handler = handler
        self.is_async = is_async_callable(handler)
        self.__wrapped__ = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: ASGIApp
        try:
            if self.is_async:
                response = await self.handler(request)  # type: ignore[misc]
            else:
                response = await asyncio.to_thread(self.handler, request)  # type: ignore[arg-type]
        except APIError as exc:
            response = ErrorResponse(exc)
        if not callable(response):
            raise TypeError(
                f"handler {getattr(self.handler, '__qualname__', self.handler)!r} returned "
                f"{type(response).__name__}, expected a Response"
            )
        await response(scope, receive, send)
