"""Response-header layers: middleware whose whole per-request work is reading (or updating) the scope and
adding lines to the response start — request_id and security_headers.

Nested as plain ASGI layers, each costs a coroutine frame, a per-request ``send`` closure, a call per message
and a copy of the start message. Consecutive header layers run instead as ONE layer with one ``send``
wrapper, and an App whose chain starts with them runs them itself, inside the ``send`` wrapper it has anyway
(see ``plumego.core.App.prepare``). The result is the same as nesting: ``prepare`` runs outermost first, and
the start message's headers go through ``apply`` innermost first, as they would through nested wrappers.

Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]
Prepare = Callable[[Scope], Any]
"""Runs for ``http`` and ``websocket`` scopes; returns what ``apply`` needs for an HTTP response, or None."""
Apply = Callable[[Headers, Any], Headers]
"""Adds lines to a copy of the response start's headers (may change it in place) and returns it."""
Hooks = tuple[tuple[Prepare, Apply], ...]


class HeaderLayer:
    """A middleware made of a ``prepare`` and an ``apply`` hook (see the module docstring).

    Used like any middleware (``layer(app)``); chains built by the App or :class:`Chain` run consecutive ones
    as one layer.
    """

    __slots__ = ("name", "hooks")

    def __init__(self, name: str, prepare: Prepare, apply: Apply) -> None:
        self.name = name
        self.hooks: Hooks = ((prepare, apply),)

    def __call__(self, app: ASGIApp) -> ASGIApp:
        return header_layers_app(self.hooks, app)

    def prepare_request(self, scope: Scope) -> list[tuple[Apply, Any]]:
        """Run every ``prepare`` on an ``http`` or ``websocket`` scope; what :meth:`add_headers` needs later.

        For a caller that wraps ``send`` itself (the App) instead of using the layer as middleware.
        """
        return prepare_all(self.hooks, scope)

    @staticmethod
    def add_headers(found: list[tuple[Apply, Any]], message: Message) -> Message:
        """The ``http.response.start`` ``message`` with the headers that :meth:`prepare_request` chose."""
        return apply_all(found, message)

    def __repr__(self) -> str:
        return f"<header layer {self.name}>"


class HeaderLayerRun(HeaderLayer):
    """Consecutive header layers, outermost first, run as one."""

    __slots__ = ()

    def __init__(self, layers: Sequence[HeaderLayer]) -> None:
        self.name = "+".join(layer.name for layer in layers)
        self.hooks = tuple(hook for layer in layers for hook in layer.hooks)


def fuse_middleware(middleware: Sequence[Middleware]) -> list[Middleware]:
    """``middleware`` with every run of consecutive header layers replaced by one :class:`HeaderLayerRun`."""
    fused: list[Middleware] = []
    run: list[HeaderLayer] = []
    for item in [*middleware, None]:
        if isinstance(item, HeaderLayer):
            run.append(item)
            continue
        if run:
            fused.append(HeaderLayerRun(run))
            run = []
        if item is not None:
            fused.append(item)
    return fused


def prepare_all(hooks: Hooks, scope: Scope) -> list[tuple[Apply, Any]]:
    """Run every ``prepare`` (outermost first); the ``apply`` calls due on the response start, innermost first."""
    found: list[tuple[Apply, Any]] = []
    for prepare, apply in hooks:
        data = prepare(scope)
        if data is not None:
            found.append((apply, data))
    found.reverse()
    return found


def apply_all(found: list[tuple[Apply, Any]], message: Message) -> Message:
    """The start ``message`` with its headers passed through ``found`` (a new message; the app's is untouched)."""
    headers: Headers = list(message.get("headers") or ())
    for apply, data in found:
        headers = apply(headers, data)
    return {**message, "headers": headers}


def header_layers_app(hooks: Hooks, app: ASGIApp) -> ASGIApp:
    """One ASGI layer running ``hooks`` around ``app``."""
    if len(hooks) == 1:
        ((prepare, apply),) = hooks

        async def header_layer_app(scope: Scope, receive: Receive, send: Send) -> None:
            kind = scope["type"]
            if kind != "http":
                if kind == "websocket":
                    prepare(scope)
                await app(scope, receive, send)
                return
            data = prepare(scope)
            if data is None:
                await app(scope, receive, send)
                return

            def send_with_headers(message: Message) -> Awaitable[None]:  # no extra coroutine per message
                if message["type"] == "http.response.start":
                    message = {**message, "headers": apply(list(message.get("headers") or ()), data)}
                return send(message)

            await app(scope, receive, send_with_headers)

        return header_layer_app

    async def header_layers_app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                for prepare, _ in hooks:
                    prepare(scope)
            await app(scope, receive, send)
            return
        found = prepare_all(hooks, scope)
        if not found:
            await app(scope, receive, send)
            return

        def send_with_headers(message: Message) -> Awaitable[None]:  # no extra coroutine per message
            if message["type"] == "http.response.start":
                message = apply_all(found, message)
            return send(message)

        await app(scope, receive, send_with_headers)

    return header_layers_app
