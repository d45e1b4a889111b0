"""Adapts a plumego handler (``Request -> Response`` or a plain value, async or sync) to an ASGI app, once per route.

APIError raised by a handler becomes its error envelope; any other exception propagates to the
caller (core turns it into a 500 envelope and logs it). Plain return values are converted as
``_returns`` says; the return annotation is checked here, at registration. Imports only the standard library.
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
from ._returns import ReturnKind, classify_return, to_response
from ._types import Receive, Scope, Send

__all__ = ["AsyncHandler", "Handler", "HandlerApp", "ResponseApp", "SyncHandler", "is_async_callable"]

ResponseApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
"""A Response, or any other ASGI app."""

AsyncHandler: TypeAlias = Callable[[Request], Awaitable[Any]]
SyncHandler: TypeAlias = Callable[[Request], Any]
# A handler returns a ResponseApp or a plain value (dict, list, dataclass, str, bytes, None, ...): see _returns.
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

    Sync handlers run in a worker thread (``asyncio.to_thread``, which keeps contextvars). A plain return value
    (dict/list/dataclass -> JSON, str -> text, bytes -> octet-stream, None -> 204) is converted; a return
    annotation that can never become a response raises :class:`UnsupportedReturnType` here, at registration.
    """

    __slots__ = ("handler", "is_async", "returns_app", "name", "__wrapped__")

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {type(handler).__name__}")
        self.handler = handler
        self.is_async = is_async_callable(handler)
        self.name = str(getattr(handler, "__qualname__", None) or type(handler).__qualname__)
        self.returns_app = classify_return(handler, self.name) is ReturnKind.APP
        self.__wrapped__ = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Any
        try:
            if self.is_async:
                response = await self.handler(request)
            else:
                response = await asyncio.to_thread(self.handler, request)
        except APIError as exc:
            response = ErrorResponse(exc)
        if not callable(response):
            if self.returns_app:  # annotated to return a Response, but did not
                raise TypeError(
                    f"handler {self.name!r} returned {type(response).__name__}, expected a Response"
                )
            response = to_response(response, self.name)
        await response(scope, receive, send)
