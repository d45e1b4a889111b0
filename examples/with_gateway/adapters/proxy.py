"""The app's upstream, and its implementation on plumego.x.gateway (beta, so it stays behind this adapter).

Owns ``Upstream`` (what the routes need: an ASGI app to forward to, readiness, start/stop) and ``GatewayUpstream``
(one backend, ``prefix`` stripped, passive health, a readiness probe). Imports plumego's gateway only here.
"""

from __future__ import annotations

from typing import Protocol

from plumego.contract import ASGIApp
from plumego.x.gateway import Gateway, GatewayConfig, UpstreamError, strip_prefix


class Upstream(Protocol):
    @property
    def app(self) -> ASGIApp: ...
    @property
    def url(self) -> str: ...
    async def ready(self) -> bool: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class GatewayUpstream:
    """Raises ValueError for a backend that is not an http(s) URL."""

    def __init__(self, backend: str, *, prefix: str) -> None:
        self._gateway = Gateway(GatewayConfig(targets=[backend], path_rewrite=strip_prefix(prefix), timeout=30.0))
        self._url = backend.rstrip("/")

    @property
    def app(self) -> ASGIApp:
        return self._gateway

    @property
    def url(self) -> str:
        return self._url

    async def ready(self) -> bool:
        """Any HTTP answer from the backend's root counts: it is up and reachable."""
        backend = self._gateway.backends[0]
        try:
            await backend.probe("/", 2.0)
        except UpstreamError:
            return False
        return True

    async def start(self) -> None:
        await self._gateway.start()

    async def stop(self) -> None:
        await self._gateway.stop()
