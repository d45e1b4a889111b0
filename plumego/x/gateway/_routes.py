"""Registering a gateway on a router (Go ``RegisterProxy``): ANY ``prefix`` and ANY ``prefix/*path``.
Imports the standard library, plumego.contract and this package.
"""

from __future__ import annotations

from typing import Any, Protocol

from plumego.contract import ASGIApp, Request

__all__ = ["register_proxy"]


class Routes(Protocol):
    def add_route(self, method: str, path: str, handler: Any, **options: Any) -> Any: ...


def register_proxy(routes: Routes, prefix: str, gateway: ASGIApp, *, name: str = "") -> None:
    """Send every method on ``prefix`` and everything under it to ``gateway`` (an ASGI app, usually a
    :class:`Gateway`). The gateway sees the full path; strip the prefix with ``path_rewrite=strip_prefix(...)``.
    Raises ValueError for a blank or relative prefix and TypeError for a gateway that is not callable."""
    if routes is None:
        raise ValueError("register_proxy needs a router")
    if not prefix.strip() or not prefix.startswith("/"):
        raise ValueError(f"the proxy prefix must start with '/', got {prefix!r}")
    if not callable(gateway):
        raise TypeError("gateway must be an ASGI app")
    p = prefix.rstrip("/")

    async def forward(request: Request) -> ASGIApp:
        return gateway

    if p:
        routes.add_route("ANY", p, forward, name=name)
    routes.add_route("ANY", f"{p}/*path", forward)
