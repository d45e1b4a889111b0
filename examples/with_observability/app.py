"""The with_observability service: routes and wiring. Imports plumego's stable roots and this app's adapters only."""

from __future__ import annotations

from typing import Any

from plumego.contract import APIError, ErrorType, JSONResponse, Request, Response
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.telemetry import Telemetry


class Readiness:
    """Ready between startup and shutdown: /readyz answers 503 while the app drains."""

    def __init__(self) -> None:
        self.ready = False

    async def start(self) -> None:
        self.ready = True

    async def stop(self) -> None:
        self.ready = False


def build_app(telemetry: Telemetry, logger: StructuredLogger, *, host: str = "127.0.0.1", port: int = 8086) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    for middleware in telemetry.middleware():
        app.use(middleware)
    app.use(recovery(logger))
    app.use(access_log(logger))
    readiness = Readiness()
    app.add_component("telemetry", telemetry)
    app.add_component("readiness", readiness)

    async def hello(request: Request) -> dict[str, str]:
        name = request.path_params["name"]
        if len(name) > 64:
            raise APIError(ErrorType.VALIDATION, "name must be at most 64 characters", details={"field": "name"})
        return {"message": f"hello {name}"}

    async def stats(request: Request) -> dict[str, Any]:
        return telemetry.stats()

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    async def readyz(request: Request) -> Response:
        return JSONResponse({"ready": readiness.ready}, status=200 if readiness.ready else 503)

    app.get("/api/v1/hello/:name", hello)
    app.get("/api/v1/stats", stats)
    app.get("/metrics", telemetry.metrics)
    app.get("/healthz", healthz)
    app.get("/readyz", readyz)
    return app
