"""The HTTP-to-gRPC transcoder: plumego routes mapped to unary gRPC calls with JSON <-> protobuf conversion
by protobuf's json_format.

Owns request assembly (path parameters, query string, JSON body), deadlines, trace propagation and error
mapping. Imports the standard library, plumego.contract, grpcio and protobuf (``pip install 'plumego[rpc]'``);
never core or router (routes are registered through any object with ``add_route``).

Better than Go plumego: Go's transcoder only matches method and path and leaves protocol translation to
grpc-gateway; this one does the JSON <-> protobuf work itself from the message descriptors, no codegen step.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

try:
    import grpc
    from google.protobuf import json_format
    from google.protobuf.descriptor import FieldDescriptor
    from google.protobuf.message import DecodeError, Message
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the HTTP transcoder needs grpcio and protobuf: pip install 'plumego[rpc]'") from exc

from plumego.contract import (
    APIError,
    ErrorType,
    JSONResponse,
    Request,
    Response,
    trace_context_from_scope,
)
from plumego.x.rpc._status import api_error

__all__ = ["HTTPTranscoder", "RouteRegistrar", "TranscodedRoute"]

_MAX_BODY = 1 << 20
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class RouteRegistrar(Protocol):
    def add_route(self, method: str, path: str, handler: Any, **options: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class TranscodedRoute:
    http_method: str
    path: str
    grpc_method: str
    request_type: type[Message]
    response_type: type[Message]


class HTTPTranscoder:
    """Maps HTTP routes to unary calls on one gRPC ``channel`` (from a :class:`ClientPool`, so its interceptors
    apply).

    Request message = path parameters + query parameters (GET/DELETE/HEAD) or the JSON object body
    (POST/PUT/PATCH) plus path parameters, parsed by ``json_format.ParseDict`` against the request descriptor:
    an unknown field, a wrong type or an out-of-range number answers 400 ``INVALID_ARGUMENT`` naming it;
    a non-JSON or non-object body answers 400 too. The reply is ``MessageToDict`` (proto3 JSON names).

    Every call carries a deadline (``timeout`` seconds, default 5) and the request's trace as ``traceparent``.
    Errors: a gRPC status maps to HTTP by the grpc-gateway table (DEADLINE_EXCEEDED 504, UNAVAILABLE 503,
    CANCELLED 499, ...), code ``GRPC_<NAME>``; an HTTP client that disconnects cancels the gRPC call.
    """

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float = 5.0,
                 metadata: Callable[[Request], Mapping[str, str]] | None = None) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self._channel = channel
        self.timeout = timeout
        self._metadata = metadata
        self.routes: list[TranscodedRoute] = []

    def handler(self, http_method: str, path: str, grpc_method: str, request_type: type[Message],
                response_type: type[Message]) -> Callable[[Request], Awaitable[Response]]:
        """The plumego handler for one mapping; ``grpc_method`` is ``/package.Service/Method``."""
        http_method = http_method.upper()
        if not grpc_method.startswith("/") or grpc_method.count("/") != 2:
            raise ValueError(f"grpc_method {grpc_method!r} must look like /package.Service/Method")
        descriptor = request_type.DESCRIPTOR
        fields = {f.name: f for f in descriptor.fields}
        fields.update({f.json_name: f for f in descriptor.fields})
        for segment in path.split("/"):
            if segment[:1] in (":", "*") and segment[1:] not in fields:
                raise ValueError(f"path parameter {segment} is not a field of {descriptor.full_name}")
        stub = self._channel.unary_unary(grpc_method, request_serializer=request_type.SerializeToString,
                                         response_deserializer=response_type.FromString)
        self.routes.append(TranscodedRoute(http_method, path, grpc_method, request_type, response_type))
        timeout = self.timeout
        extra_metadata = self._metadata

        async def transcode(request: Request) -> Response:
            payload: dict[str, Any] = {}
            if http_method in _BODY_METHODS:
                raw = await request.body()
                if len(raw) > _MAX_BODY:
                    raise APIError(ErrorType.PAYLOAD_TOO_LARGE, "the body is too large")
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except (ValueError, RecursionError):
                        raise APIError(ErrorType.BAD_REQUEST, "the body is not valid JSON",
                                       code="INVALID_ARGUMENT") from None
                    if not isinstance(body, dict):
                        raise APIError(ErrorType.BAD_REQUEST, "the body must be a JSON object",
                                       code="INVALID_ARGUMENT")
                    payload.update(body)
            else:
                for key in request.query_params.keys():
                    field = fields.get(key)
                    if field is None:
                        raise APIError(ErrorType.BAD_REQUEST, f"unknown query parameter {key!r}",
                                       code="INVALID_ARGUMENT", details={"field": key})
                    values = request.query_params.getlist(key)
                    repeated = _is_repeated(field)
                    payload[key] = [_scalar(field, v) for v in values] if repeated else _scalar(field, values[-1])
            for key, value in request.path_params.items():
                payload[key] = _scalar(fields[key], value)
            message = request_type()
            try:
                json_format.ParseDict(payload, message)
            except (json_format.ParseError, DecodeError, ValueError, TypeError, RecursionError) as exc:
                raise APIError(ErrorType.BAD_REQUEST, _short(str(exc)), code="INVALID_ARGUMENT") from None
            metadata: list[tuple[str, str]] = []
            trace = trace_context_from_scope(request.scope)
            if trace is not None and trace.has_trace_id() and len(trace.span_id) == 16:
                metadata.append(("traceparent", f"00-{trace.trace_id}-{trace.span_id}-{trace.flags & 0xFF:02x}"))
            if request.request_id:
                metadata.append(("x-request-id", request.request_id))
            if extra_metadata is not None:
                metadata.extend((k.lower(), v) for k, v in extra_metadata(request).items())
            try:
                reply = await stub(message, timeout=timeout, metadata=tuple(metadata))
            except grpc.aio.AioRpcError as exc:
                raise api_error(exc.code(), exc.details() or "") from None
            except asyncio.CancelledError:
                raise
            return JSONResponse(json_format.MessageToDict(reply))

        return transcode

    def register(self, routes: RouteRegistrar, http_method: str, path: str, grpc_method: str,
                 request_type: type[Message], response_type: type[Message], **options: Any) -> None:
        """``routes.add_route(http_method, path, handler)`` for one mapping (an App, router or group)."""
        routes.add_route(http_method.upper(), path,
                         self.handler(http_method, path, grpc_method, request_type, response_type), **options)


def _is_repeated(field: FieldDescriptor) -> bool:
    repeated = getattr(field, "is_repeated", None)      # protobuf >= 6; older releases only have ``label``
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == FieldDescriptor.LABEL_REPEATED)


def _scalar(field: FieldDescriptor, value: str) -> Any:
    """A query or path string as the JSON value json_format expects for ``field`` (proto3 JSON mapping)."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise APIError(ErrorType.BAD_REQUEST, f"{field.name} must be true or false", code="INVALID_ARGUMENT",
                       details={"field": field.name})
    if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
        raise APIError(ErrorType.BAD_REQUEST, f"{field.name} cannot be set from the URL", code="INVALID_ARGUMENT",
                       details={"field": field.name})
    return value  # numbers, enums and bytes: proto3 JSON accepts their string forms; json_format checks them


def _short(text: str) -> str:
    return text.splitlines()[0][:300] if text else "the request does not match the message"
