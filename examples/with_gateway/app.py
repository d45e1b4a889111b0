"""The with_gateway service: routes and wiring. Imports plumego's stable roots and this app's adapters only."""

from __future__ import annotations

from plumego.contract import APIError, ASGIApp, ErrorType, Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.proxy import Upstream


def build_app(upstream: Upstream, logger: StructuredLogger, *, host: str = "127.0.0.1", port: int = 8083) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.add_component("upstream", upstream)

    async def forward(request: Request) -> ASGIApp:
        return upstream.app

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    async def readyz(request: Request) -> dict[str, str]:
        if not await upstream.ready():
            raise APIError(ErrorType.UNAVAILABLE, "the backend does not answer")
        return {"status": "ready", "backend": upstream.url}

    app.any("/proxy", forward)
    app.any("/proxy/*path", forward)
    app.get("/healthz", healthz)
    app.get("/readyz", readyz)
    return app
