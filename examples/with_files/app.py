"""The with_files service: routes and wiring. Imports plumego's stable roots and this app's adapters only."""

from __future__ import annotations

from plumego.contract import Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.files import FileService


def build_app(files: FileService, logger: StructuredLogger, *, host: str = "127.0.0.1", port: int = 8087) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.use(files.tenant_middleware)
    app.add_component("files", files)
    files.register(app, "/files")

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    app.get("/healthz", healthz)
    return app
