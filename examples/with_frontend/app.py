"""The with_frontend service: JSON API routes, then the frontend mount. Imports plumego's stable roots and
plumego.x.frontend (beta) only."""

from __future__ import annotations

from pathlib import Path

from plumego.contract import APIError, EnvelopeResponse, ErrorType, Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id
from plumego.x.frontend import Mount

STATIC = Path(__file__).resolve().parent / "static"
ITEMS = ({"id": 1, "name": "gopher"}, {"id": 2, "name": "python"})


def build_app(logger: StructuredLogger, *, api_prefix: str = "/api", ui_prefix: str = "", assets_dir: str = "",
              host: str = "127.0.0.1", port: int = 8088) -> App:
    if not api_prefix.startswith("/") or api_prefix.endswith("/"):
        raise ValueError("API_PREFIX must start with '/' and not end with '/'")
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))

    async def status(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    async def items(request: Request) -> EnvelopeResponse:
        return EnvelopeResponse({"items": list(ITEMS)})

    async def item(request: Request) -> EnvelopeResponse:
        for entry in ITEMS:
            if str(entry["id"]) == request.param("id"):
                return EnvelopeResponse(entry)
        raise APIError(ErrorType.NOT_FOUND, "no such item")

    api = app.group(api_prefix)
    api.get("/status", status)
    api.get("/items", items)
    api.get("/items/:id", item)
    app.get("/healthz", status)
    # after the API: the mount's catch-all never shadows a static or parameter route anyway
    Mount(assets_dir or STATIC, prefix=ui_prefix, index_cache_control="no-cache",
          cache_control="public, max-age=31536000, immutable", precompressed=True).register(app)
    return app
