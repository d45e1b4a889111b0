"""Middleware composition: an ordered chain where the first registered middleware runs outermost.

Owns ordering only; the chain is built once at startup, never per request. Imports only the standard
library and plumego.contract.
"""

from __future__ import annotations

from plumego.contract import ASGIApp, Middleware
from plumego.middleware._headerlayers import fuse_middleware


class Chain:
    """An ordered list of middleware. ``Chain(a, b).build(h)`` runs ``a -> b -> h``."""

    __slots__ = ("_middlewares",)

    def __init__(self, *middlewares: Middleware) -> None:
        self._middlewares: list[Middleware] = []
        for middleware in middlewares:
            self.use(middleware)

    def use(self, middleware: Middleware) -> Chain:
        """Append ``middleware`` (it runs inside every middleware added before it)."""
        if middleware is None or not callable(middleware):
            raise TypeError("middleware must be a callable taking and returning an ASGI app")
        self._middlewares.append(middleware)
        return self

    def __len__(self) -> int:
        return len(self._middlewares)

    def snapshot(self) -> tuple[Middleware, ...]:
        """The registered middleware, outermost first."""
        return tuple(self._middlewares)

    def build(self, app: ASGIApp) -> ASGIApp:
        """Wrap ``app`` in every middleware, the first registered outermost (consecutive header layers as one)."""
        for middleware in reversed(fuse_middleware(self._middlewares)):
            app = middleware(app)
        return app
