"""plumego.x.rpc (experimental): a gRPC server runtime on grpcio.aio with the standard health service and a
graceful stop, a client pool with logging, retry-on-code and tracing interceptors, and the HTTP-to-gRPC
transcoder (JSON <-> protobuf through json_format).

Everything loads lazily (``pip install 'plumego[rpc]'``). May import the stable roots its module.yaml allows
(contract, log) and x/observability; never core, router, the reference app or tooling.

Better than Go plumego: Go's x/rpc is transport-neutral glue with no gRPC in it; this family runs real gRPC
and transcodes JSON itself from message descriptors (generated or built at run time), no grpc-gateway step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plumego.x.rpc._client import (
        ClientPool,
        LoggingInterceptor,
        PoolClosedError,
        RetryInterceptor,
        TracingInterceptor,
    )
    from plumego.x.rpc._gateway import HTTPTranscoder, RouteRegistrar, TranscodedRoute
    from plumego.x.rpc._server import GrpcServer, ServerTracingInterceptor, unary_handler
    from plumego.x.rpc._status import HTTP_STATUS, api_error, http_status

__all__ = [
    "HTTP_STATUS",
    "ClientPool",
    "GrpcServer",
    "HTTPTranscoder",
    "LoggingInterceptor",
    "PoolClosedError",
    "RetryInterceptor",
    "RouteRegistrar",
    "ServerTracingInterceptor",
    "TracingInterceptor",
    "TranscodedRoute",
    "api_error",
    "http_status",
    "unary_handler",
]

_CLIENT = frozenset({"ClientPool", "LoggingInterceptor", "PoolClosedError", "RetryInterceptor",
                     "TracingInterceptor"})
_GATEWAY = frozenset({"HTTPTranscoder", "RouteRegistrar", "TranscodedRoute"})
_SERVER = frozenset({"GrpcServer", "ServerTracingInterceptor", "unary_handler"})
_STATUS = frozenset({"HTTP_STATUS", "api_error", "http_status"})


def __getattr__(name: str) -> Any:
    """Load grpcio and protobuf on first use (literal imports the linter can check)."""
    if name in _CLIENT:
        from plumego.x.rpc import _client as module
    elif name in _GATEWAY:
        from plumego.x.rpc import _gateway as module  # type: ignore[no-redef]
    elif name in _SERVER:
        from plumego.x.rpc import _server as module  # type: ignore[no-redef]
    elif name in _STATUS:
        from plumego.x.rpc import _status as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'plumego.x.rpc' has no attribute {name!r}")
    return getattr(module, name)
