"""The with_messaging service: routes and wiring. Imports plumego's stable roots and this app's adapters only."""

from __future__ import annotations

from typing import Any

from plumego.contract import APIError, ErrorType, JSONResponse, Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.bus import EventBus


def build_app(bus: EventBus, logger: StructuredLogger, *, host: str = "127.0.0.1", port: int = 8082) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.add_component("event-bus", bus)

    async def publish(request: Request) -> JSONResponse:
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("topic"), str) or "payload" not in body:
            raise APIError(ErrorType.VALIDATION, 'the body must be {"topic": string, "payload": any JSON}')
        try:
            message_id = await bus.publish(body["topic"], body["payload"])
        except ValueError as exc:
            raise APIError(ErrorType.VALIDATION, str(exc), details={"field": "topic"}) from None
        return JSONResponse({"id": message_id, "topic": body["topic"]}, status=202)

    async def recent(request: Request) -> dict[str, Any]:
        pattern = request.query_params.get("pattern", "#")
        try:
            return {"items": bus.recent(pattern, 50)}
        except ValueError as exc:
            raise APIError(ErrorType.VALIDATION, str(exc), details={"field": "pattern"}) from None

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    app.post("/events/publish", publish)
    app.get("/events/recent", recent)
    app.get("/healthz", healthz)
    return app
