"""gRPC status codes to HTTP: the grpc-gateway table, and the APIError a failed call becomes.

Owns the mapping only. Imports the standard library, plumego.contract and grpcio.
"""

from __future__ import annotations

from typing import Final

try:
    import grpc
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("x/rpc needs grpcio: pip install 'plumego[rpc]'") from exc

from plumego.contract import APIError

__all__ = ["HTTP_STATUS", "api_error", "http_status"]

#: gRPC code -> HTTP status, as grpc-gateway maps them (CANCELLED is nginx's 499, client closed request).
HTTP_STATUS: Final[dict[grpc.StatusCode, int]] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
# Server-side details of these codes may carry internals (stack traces, SQL): never forwarded to HTTP clients.
_HIDDEN: Final = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS})


def http_status(code: grpc.StatusCode) -> int:
    return HTTP_STATUS.get(code, 500)


def api_error(code: grpc.StatusCode, details: str = "") -> APIError:
    """The canonical error for a failed call: status from :data:`HTTP_STATUS`, code ``GRPC_<NAME>``, and the
    status details as the message except for UNKNOWN/INTERNAL/DATA_LOSS, whose details stay server-side."""
    if code in _HIDDEN or not details:
        message = {grpc.StatusCode.DEADLINE_EXCEEDED: "the upstream call exceeded its deadline",
                   grpc.StatusCode.CANCELLED: "the upstream call was cancelled",
                   grpc.StatusCode.UNAVAILABLE: "the upstream service is unavailable"}.get(
            code, "the upstream call failed")
    else:
        message = details[:512]
    return APIError(status=http_status(code), code=f"GRPC_{code.name}", message=message,
                    details={"grpc_code": code.name})
