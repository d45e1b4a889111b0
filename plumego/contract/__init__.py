"""plumego.contract: wire contracts shared by every module.

Error and success envelopes (byte-compatible with Go Plumego), the canonical error table, request-id and
trace carriers in the ASGI scope, ASGI type aliases, and the Request/Response types.
Stable root (ga). Imports only the standard library; never plumego.x, the reference app or tooling.
"""

from ._context import (
    REQUEST_ID_HEADER,
    SCOPE_PATH_PARAMS,
    SCOPE_REQUEST_ID,
    SCOPE_ROUTE,
    SCOPE_TRACE,
    RouteContext,
    TraceContext,
    path_params_from_scope,
    request_id_from_scope,
    route_context_from_scope,
    trace_context_from_scope,
    valid_request_id,
    with_request_id,
    with_route_context,
    with_trace_context,
)
from ._envelope import InvalidResponseStatus, encode_error_envelope, encode_success_envelope, go_json
from ._errors import (
    APIError,
    ErrorBuilder,
    ErrorCategory,
    ErrorCode,
    ErrorType,
    ErrorTypeMeta,
    as_api_error,
    status_text,
)
from ._handler import AsyncHandler, Handler, HandlerApp, ResponseApp, SyncHandler, is_async_callable
from ._request import ClientDisconnect, Headers, QueryParams, Request
from ._response import (
    CONTENT_TYPE_JSON,
    HEADER_CONTENT_TYPE,
    EnvelopeResponse,
    ErrorResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from ._types import ASGIApp, Message, Middleware, Receive, Scope, Send

__all__ = [
    "APIError",
    "ASGIApp",
    "AsyncHandler",
    "CONTENT_TYPE_JSON",
    "ClientDisconnect",
    "EnvelopeResponse",
    "ErrorBuilder",
    "ErrorCategory",
    "ErrorCode",
    "ErrorResponse",
    "ErrorType",
    "ErrorTypeMeta",
    "HEADER_CONTENT_TYPE",
    "Handler",
    "HandlerApp",
    "Headers",
    "InvalidResponseStatus",
    "JSONResponse",
    "Message",
    "Middleware",
    "PlainTextResponse",
    "QueryParams",
    "REQUEST_ID_HEADER",
    "Receive",
    "Request",
    "Response",
    "ResponseApp",
    "RouteContext",
    "SCOPE_PATH_PARAMS",
    "SCOPE_REQUEST_ID",
    "SCOPE_ROUTE",
    "SCOPE_TRACE",
    "Scope",
    "Send",
    "StreamingResponse",
    "SyncHandler",
    "TraceContext",
    "as_api_error",
    "encode_error_envelope",
    "encode_success_envelope",
    "go_json",
    "is_async_callable",
    "path_params_from_scope",
    "request_id_from_scope",
    "route_context_from_scope",
    "status_text",
    "trace_context_from_scope",
    "valid_request_id",
    "with_request_id",
    "with_route_context",
    "with_trace_context",
]
