"""The app's gRPC side on plumego.x.rpc (experimental, so it stays here): the Greeter server, the client pool and
the HTTP transcoder that calls it.

Owns ``RpcGateway`` (the app's interface) and ``GrpcGateway``: a lifecycle component that starts the gRPC server,
then points the transcoder at it, and a handler factory for the HTTP routes. Imports plumego's x/rpc
only in this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from plumego.contract import APIError, ErrorType, Request, Response
from plumego.log import StructuredLogger
from plumego.x.rpc import ClientPool, GrpcServer, HTTPTranscoder, LoggingInterceptor, RetryInterceptor, unary_handler

from ..hello_proto import SAY_HELLO, SERVICE, HelloReply, HelloRequest

Handler = Callable[[Request], Awaitable[Response]]
SayHello = Callable[[Any], Awaitable[str]]


class RpcGateway(Protocol):
    """What the app needs from its gRPC side."""

    @property
    def port(self) -> int: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def hello_route(self) -> Handler: ...


class GrpcGateway:
    def __init__(self, address: str, say_hello: SayHello, logger: StructuredLogger, *, timeout: float = 2.0) -> None:
        async def handle(request: Any, context: Any) -> Any:
            return HelloReply(message=await say_hello(request))

        self.server = GrpcServer(address, grace=5.0, logger=logger)
        self.server.add_service(SERVICE, unary_handler(SERVICE, {"SayHello": (handle, HelloRequest, HelloReply)}))
        self._pool = ClientPool(interceptors=[LoggingInterceptor(logger), RetryInterceptor(3)])
        self._timeout = timeout
        self._handlers: dict[str, Handler] = {}

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        await self.server.start()
        transcoder = HTTPTranscoder(self._pool.channel(f"127.0.0.1:{self.server.port}"), timeout=self._timeout)
        self._handlers["hello"] = transcoder.handler("GET", "/v1/hello/:name", SAY_HELLO, HelloRequest, HelloReply)

    async def stop(self) -> None:
        await self.server.stop()
        await self._pool.close()

    def hello_route(self) -> Handler:
        async def hello(request: Request) -> Response:
            handler = self._handlers.get("hello")
            if handler is None:
                raise APIError(ErrorType.UNAVAILABLE, "the gRPC side is not started")
            return await handler(request)

        return hello
