"""The gRPC server runtime on grpcio.aio: services, the standard health service, server-side trace
continuation, and a graceful stop; an App lifecycle component.

Owns server start/stop and health status. Imports the standard library, plumego.log, grpcio and
grpcio-health-checking (``pip install 'plumego[rpc]'``); the OpenTelemetry API only for tracing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

try:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the gRPC server needs grpcio and grpcio-health-checking: pip install 'plumego[rpc]'") from exc

from plumego.log import StructuredLogger

__all__ = ["GrpcServer", "ServerTracingInterceptor", "unary_handler"]

UnaryFn = Callable[[Any, Any], Awaitable[Any]]


def unary_handler(service: str, methods: dict[str, tuple[UnaryFn, Any, Any]]) -> grpc.GenericRpcHandler:
    """A generic handler for ``service`` (``package.Service``) from ``{method: (fn, RequestType, ResponseType)}``.

    ``fn(request, context)`` is async; works with dynamically built message classes and generated ones alike.
    """
    return grpc.method_handlers_generic_handler(service, {
        name: grpc.unary_unary_rpc_method_handler(fn, request_deserializer=req.FromString,
                                                  response_serializer=resp.SerializeToString)
        for name, (fn, req, resp) in methods.items()
    })


class ServerTracingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Continues the caller's trace: a SERVER span per call, parented on the ``traceparent`` metadata."""

    def __init__(self, tracer: Any) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._tracer = tracer
        self._propagator = TraceContextTextMapPropagator()

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        carrier = {key: value for key, value in (details.invocation_metadata or ())
                   if key in ("traceparent", "tracestate") and isinstance(value, str)}
        parent = self._propagator.extract(carrier)
        inner = handler.unary_unary
        tracer = self._tracer
        method = details.method

        async def traced(request: Any, context: Any) -> Any:
            from opentelemetry.trace import SpanKind

            with tracer.start_as_current_span(method.lstrip("/"), context=parent, kind=SpanKind.SERVER,
                                              attributes={"rpc.system": "grpc"}):
                return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(traced, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


class GrpcServer:
    """A grpc.aio server as an App component: ``start()`` binds and serves, ``stop()`` drains.

    ``address`` is ``host:port`` (port 0 picks a free one; :attr:`port` tells which). The standard
    ``grpc.health.v1.Health`` service is always added and reports SERVING for ``""`` and every registered
    service while running; ``stop()`` first flips them all to NOT_SERVING (so load balancers stop sending),
    then lets in-flight calls finish for ``grace`` seconds before cancelling what remains.
    """

    def __init__(self, address: str = "127.0.0.1:0", *, grace: float = 5.0,
                 interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
                 options: Sequence[tuple[str, Any]] = (), logger: StructuredLogger | None = None) -> None:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"gRPC address {address!r} must be host:port")
        if grace < 0:
            raise ValueError("grace must be >= 0 seconds")
        self.address = address
        self.grace = grace
        self._interceptors = tuple(interceptors)
        self._options = tuple(options)
        self._logger = logger
        self._handlers: list[grpc.GenericRpcHandler] = []
        self._services: list[str] = []
        self._server: grpc.aio.Server | None = None
        self.health = health.aio.HealthServicer()
        self.port = 0

    def add_service(self, name: str, handler: grpc.GenericRpcHandler) -> None:
        """Register ``handler`` (generated ``add_XServicer_to_server`` code can use :attr:`server` instead)."""
        if self._server is not None:
            raise RuntimeError("gRPC services must be added before start()")
        self._handlers.append(handler)
        self._services.append(name)

    @property
    def server(self) -> grpc.aio.Server:
        if self._server is None:
            raise RuntimeError("the gRPC server is not started")
        return self._server

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the gRPC server is already started")
        server = grpc.aio.server(interceptors=self._interceptors, options=self._options)
        server.add_generic_rpc_handlers(tuple(self._handlers))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        self.port = server.add_insecure_port(self.address)
        if self.port == 0:
            raise OSError(f"cannot bind gRPC address {self.address}")
        await server.start()
        self._server = server
        for name in ("", *self._services):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self._logger is not None:
            self._logger.info("grpc server started", {"port": self.port, "services": list(self._services)})

    async def stop(self) -> None:
        """NOT_SERVING for every service, then a graceful stop bounded by ``grace``. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        await self.health.enter_graceful_shutdown()
        await server.stop(self.grace)
        if self._logger is not None:
            self._logger.info("grpc server stopped", {"port": self.port})

    async def wait(self) -> None:
        """Block until the server terminates (a standalone ``python -m`` service's main loop)."""
        await self.server.wait_for_termination()
