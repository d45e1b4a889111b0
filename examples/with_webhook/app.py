"""The with_webhook service: routes and wiring. Imports plumego's stable roots and this app's adapters only."""

from __future__ import annotations

from typing import Any

from plumego.contract import Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.webhooks import Receivers


def build_app(receivers: Receivers, logger: StructuredLogger, *, host: str = "127.0.0.1",
              port: int = 8085) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.add_component("webhook-receivers", receivers)
    receivers.mount(app)

    async def events(request: Request) -> dict[str, Any]:
        return {"items": receivers.recent()}

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    app.get("/events", events)
    app.get("/healthz", healthz)
    return app
