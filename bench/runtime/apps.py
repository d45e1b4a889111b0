"""The benchmarked apps, one per framework, selected by ``APP`` (bare, plumego, plumego-stack,
plumego-reflog, plumego-reflog-json, starlette, litestar, falcon); ``N_ROUTES`` (default 100) param
routes ``GET /api/v1/res{i}/{item_id}`` answering ``{"id": item_id, "res": i}`` plus ``GET /hello``
answering ``{"message": "Hello, World!"}``, each written the framework's idiomatic way (stdlib json,
except Litestar's msgspec). Not a test; not imported by plumego.
Served by ``run.py`` as ``uvicorn apps:app`` from this directory. ``plumego-reflog`` is the reference app's
six transport layers (request_id, security_headers, cors, recovery, access_log, body_limit) with the access
log on, writing text (``-json``: JSON) lines to ``$ACCESS_LOG_FILE`` or a file in the temp directory;
``plumego-six-off`` is the same six layers with a discarding logger (what the layers cost without the log line).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

APP = os.environ.get("APP", "plumego")
N_ROUTES = int(os.environ.get("N_ROUTES", "100"))
HELLO = {"message": "Hello, World!"}


def build_bare() -> Any:
    body = b'{"message":"Hello, World!"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def build_plumego(stack: bool = False, access_format: str = "") -> Any:
    from plumego.contract import JSONResponse, Request, Response
    from plumego.core import App

    app = App()
    if access_format:  # the reference app's six transport layers, access log on, written to a real file
        from plumego.log import LoggerConfig, new_logger
        from plumego.middleware import access_log, body_limit, cors, recovery, request_id, security_headers

        default = os.path.join(tempfile.gettempdir(), f"plumego-bench-{os.getpid()}.log")
        path = os.environ.get("ACCESS_LOG_FILE") or default
        stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the server
        logger = new_logger(LoggerConfig(format=access_format, output=stream))
        app.use(request_id(), security_headers(), cors(), recovery(logger), access_log(logger), body_limit(1 << 20))
    if stack:  # the reference app's transport stack, minus logging output
        from plumego.log import LoggerConfig, new_logger
        from plumego.metrics import NoopObserver
        from plumego.middleware import access_log, body_limit, cors, http_metrics, recovery, request_id, timeout

        quiet = new_logger(LoggerConfig(format="discard"))
        app.use(request_id(), cors(), recovery(quiet), access_log(quiet), body_limit(1 << 20),
                http_metrics(NoopObserver()), timeout(30.0))

    async def hello(request: Request) -> Response:
        return JSONResponse(HELLO)

    app.get("/hello", hello)
    for i in range(N_ROUTES):
        async def item(request: Request, i: int = i) -> Response:
            return JSONResponse({"id": request.param("item_id"), "res": i})

        app.get(f"/api/v1/res{i}/:item_id", item)
    return app


def build_starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(HELLO)

    def make(i: int) -> Any:
        async def item(request: Request) -> JSONResponse:
            return JSONResponse({"id": request.path_params["item_id"], "res": i})

        return item

    routes = [Route("/hello", hello)] + [Route(f"/api/v1/res{i}/{{item_id}}", make(i)) for i in range(N_ROUTES)]
    return Starlette(routes=routes)


def build_litestar() -> Any:
    from litestar import Litestar, get

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return HELLO

    def make(i: int) -> Any:
        @get(f"/api/v1/res{i}/{{item_id:str}}", sync_to_thread=False, name=f"res{i}")
        def item(item_id: str) -> dict[str, Any]:
            return {"id": item_id, "res": i}

        return item

    return Litestar(route_handlers=[hello, *(make(i) for i in range(N_ROUTES))], debug=False)


def build_falcon() -> Any:
    import falcon.asgi

    class Hello:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = HELLO

    class Item:
        def __init__(self, i: int) -> None:
            self.i = i

        async def on_get(self, req: Any, resp: Any, item_id: str) -> None:
            resp.media = {"id": item_id, "res": self.i}

    app = falcon.asgi.App()
    app.add_route("/hello", Hello())
    for i in range(N_ROUTES):
        app.add_route(f"/api/v1/res{i}/{{item_id}}", Item(i))
    return app


BUILDERS = {
    "bare": build_bare,
    "plumego": build_plumego,
    "plumego-stack": lambda: build_plumego(stack=True),
    "plumego-reflog": lambda: build_plumego(access_format="text"),
    "plumego-reflog-json": lambda: build_plumego(access_format="json"),
    "plumego-six-off": lambda: build_plumego(access_format="discard"),  # the six layers, logger discarding
    "starlette": build_starlette,
    "litestar": build_litestar,
    "falcon": build_falcon,
}

app = BUILDERS[APP]()
