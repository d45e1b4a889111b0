"""ASGI 3 type aliases, declared once for every plumego module.

Owns: Scope, Message, Receive, Send, ASGIApp and Middleware. Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

Scope: TypeAlias = MutableMapping[str, Any]
"""The ASGI connection scope (``http``, ``websocket`` or ``lifespan``)."""

Message: TypeAlias = MutableMapping[str, Any]
"""One ASGI event, sent or received."""

Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

Middleware: TypeAlias = Callable[[ASGIApp], ASGIApp]
"""Pure ASGI middleware: takes the next app, returns the wrapping app (built once, not per request)."""
