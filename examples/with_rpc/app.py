"""The with_rpc service: the Greeter's logic, HTTP routes and wiring. Imports plumego's stable roots and this app's
adapters only."""

from __future__ import annotations

from typing import Any

from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.rpc import GrpcGateway, RpcGateway


async def say_hello(request: Any) -> str:
    """The Greeter's business logic: what SayHello answers."""
    name = request.name.strip() or "world"
    return f"{request.greeting.strip() or 'hello'} {name}"


def build_app(logger: StructuredLogger, *, grpc_address: str = "127.0.0.1:0", host: str = "127.0.0.1",
              port: int = 8088) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    gateway: RpcGateway = GrpcGateway(grpc_address, say_hello, logger)
    app.add_component("grpc", gateway)

    async def healthz(request: Any) -> dict[str, Any]:
        return {"status": "ok", "grpc_port": gateway.port}

    app.get("/v1/hello/:name", gateway.hello_route())
    app.get("/healthz", healthz)
    return app
