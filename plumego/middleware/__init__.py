"""plumego.middleware: Pure ASGI middleware: request id, recovery, access log, metrics, tracing, body limit,
timeout, CORS, compression, concurrency limit, security headers, abuse guard, proxy headers, auth and coalescing.

Stable root (ga). Imports only the standard library and plumego.contract, plumego.log, plumego.metrics,
plumego.security;
never plumego.x, the reference app or tooling.

Every middleware here is ``Callable[[ASGIApp], ASGIApp]`` returned by one constructor function; compose
them with :class:`Chain` (first registered runs outermost).
"""

from plumego.middleware._abuseguard import UNKNOWN_CLIENT_KEY, abuse_guard
from plumego.middleware._accesslog import access_log, client_ip
from plumego.middleware._auth import (
    SCOPE_PRINCIPAL,
    APIKeyAuthenticator,
    Authenticator,
    BearerJWTAuthenticator,
    ExpiredCredentialsError,
    InvalidCredentialsError,
    Principal,
    authenticate,
    authorize,
    extract_bearer_token,
    principal_from_scope,
    with_principal,
)
from plumego.middleware._bodylimit import RequestBodyTooLarge, body_limit
from plumego.middleware._chain import Chain
from plumego.middleware._coalesce import DEFAULT_COALESCE_HEADERS, coalesce
from plumego.middleware._compression import accepts_gzip, compressible_content_type, compression
from plumego.middleware._concurrencylimit import CODE_SERVER_BUSY, CODE_SERVER_QUEUE_TIMEOUT, concurrency_limit
from plumego.middleware._cors import DEFAULT_ALLOWED_HEADERS, DEFAULT_ALLOWED_METHODS, cors
from plumego.middleware._headerlayers import HeaderLayer, fuse_middleware
from plumego.middleware._httpmetrics import http_metrics
from plumego.middleware._proxyheaders import parse_forwarded_address, proxy_headers
from plumego.middleware._recovery import recovery
from plumego.middleware._requestid import DecodedRequestID, RequestIDGenerator, decode_request_id, request_id
from plumego.middleware._securityheaders import security_headers
from plumego.middleware._timeout import ResponseTimeout, timeout
from plumego.middleware._tracing import (
    FinishedSpan,
    TraceParent,
    format_traceparent,
    parse_baggage,
    parse_traceparent,
    tracing,
)

__all__ = [
    "APIKeyAuthenticator",
    "Authenticator",
    "BearerJWTAuthenticator",
    "CODE_SERVER_BUSY",
    "CODE_SERVER_QUEUE_TIMEOUT",
    "DEFAULT_ALLOWED_HEADERS",
    "DEFAULT_ALLOWED_METHODS",
    "DEFAULT_COALESCE_HEADERS",
    "Chain",
    "DecodedRequestID",
    "HeaderLayer",
    "ExpiredCredentialsError",
    "FinishedSpan",
    "InvalidCredentialsError",
    "Principal",
    "RequestBodyTooLarge",
    "RequestIDGenerator",
    "ResponseTimeout",
    "SCOPE_PRINCIPAL",
    "TraceParent",
    "UNKNOWN_CLIENT_KEY",
    "abuse_guard",
    "access_log",
    "accepts_gzip",
    "authenticate",
    "authorize",
    "body_limit",
    "client_ip",
    "coalesce",
    "compressible_content_type",
    "compression",
    "concurrency_limit",
    "cors",
    "decode_request_id",
    "extract_bearer_token",
    "format_traceparent",
    "fuse_middleware",
    "http_metrics",
    "parse_baggage",
    "parse_traceparent",
    "parse_forwarded_address",
    "principal_from_scope",
    "proxy_headers",
    "recovery",
    "request_id",
    "security_headers",
    "timeout",
    "tracing",
    "with_principal",
]
