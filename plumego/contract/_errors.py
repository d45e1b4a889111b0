"""The canonical error model: categories, error types with their (code, status, category), APIError, ErrorBuilder.

Carries Go Plumego's table and normalization rules unchanged so error bodies match on the wire.
Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "APIError",
    "ErrorBuilder",
    "ErrorCategory",
    "ErrorCode",
    "ErrorType",
    "ErrorTypeMeta",
    "as_api_error",
    "status_text",
]


class ErrorCategory(StrEnum):
    """Broad class of an error; serialized as ``error.category``."""

    CLIENT = "client_error"
    VALIDATION = "validation_error"
    AUTH = "auth_error"
    RATE_LIMIT = "rate_limit_error"
    TIMEOUT = "timeout_error"
    SERVER = "server_error"


class ErrorCode:
    """Canonical error code strings (Go ``contract.Code*``). Extension codes are plain strings too."""

    VALIDATION_ERROR: Final = "VALIDATION_ERROR"
    BAD_REQUEST: Final = "BAD_REQUEST"
    INVALID_REQUEST: Final = "INVALID_REQUEST"
    REQUIRED_FIELD_MISSING: Final = "REQUIRED_FIELD_MISSING"
    INVALID_FORMAT: Final = "INVALID_FORMAT"
    VALUE_OUT_OF_RANGE: Final = "VALUE_OUT_OF_RANGE"
    DUPLICATE_VALUE: Final = "DUPLICATE_VALUE"
    UNAUTHORIZED: Final = "UNAUTHORIZED"
    FORBIDDEN: Final = "FORBIDDEN"
    INVALID_TOKEN: Final = "INVALID_TOKEN"
    EXPIRED_TOKEN: Final = "EXPIRED_TOKEN"
    RESOURCE_NOT_FOUND: Final = "RESOURCE_NOT_FOUND"
    RESOURCE_CONFLICT: Final = "RESOURCE_CONFLICT"
    RESOURCE_ALREADY_EXISTS: Final = "RESOURCE_ALREADY_EXISTS"
    RESOURCE_GONE: Final = "RESOURCE_GONE"
    NOT_ACCEPTABLE: Final = "NOT_ACCEPTABLE"
    REQUEST_BODY_TOO_LARGE: Final = "REQUEST_BODY_TOO_LARGE"
    INTERNAL_ERROR: Final = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE: Final = "SERVICE_UNAVAILABLE"
    TIMEOUT: Final = "TIMEOUT"
    RATE_LIMITED: Final = "RATE_LIMITED"
    MAINTENANCE_MODE: Final = "MAINTENANCE_MODE"
    METHOD_NOT_ALLOWED: Final = "METHOD_NOT_ALLOWED"
    NOT_IMPLEMENTED: Final = "NOT_IMPLEMENTED"
    BAD_GATEWAY: Final = "BAD_GATEWAY"
    GATEWAY_TIMEOUT: Final = "GATEWAY_TIMEOUT"
    INVALID_JSON: Final = "INVALID_JSON"
    INVALID_QUERY: Final = "INVALID_QUERY"


class ErrorType(StrEnum):
    """Canonical error type; serialized as ``error.type``. ``.meta`` gives the fixed code/status/category."""

    VALIDATION = "validation_failure"
    BAD_REQUEST = "bad_request"
    INVALID_REQUEST = "invalid_request"
    REQUIRED = "required_field_missing"
    INVALID_FORMAT = "invalid_format"
    OUT_OF_RANGE = "value_out_of_range"
    DUPLICATE = "duplicate_value"
    UNAUTHORIZED = "unauthorized_request"
    FORBIDDEN = "forbidden_request"
    INVALID_TOKEN = "invalid_token"
    EXPIRED_TOKEN = "expired_token"
    NOT_FOUND = "resource_not_found"
    CONFLICT = "resource_conflict"
    ALREADY_EXISTS = "resource_already_exists"
    GONE = "resource_gone"
    NOT_ACCEPTABLE = "not_acceptable"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INTERNAL = "internal_error"
    UNAVAILABLE = "service_unavailable"
    TIMEOUT = "timeout_failure"
    RATE_LIMITED = "rate_limited"
    MAINTENANCE = "maintenance_mode"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_IMPLEMENTED = "not_implemented"
    BAD_GATEWAY = "bad_gateway"
    GATEWAY_TIMEOUT = "gateway_timeout"

    @property
    def meta(self) -> ErrorTypeMeta:
        return _TYPE_META[self]


@dataclass(frozen=True, slots=True)
class ErrorTypeMeta:
    """The fixed (category, code, status) triple of an :class:`ErrorType`."""

    category: ErrorCategory
    code: str
    status: int


def _m(category: ErrorCategory, code: str, status: int) -> ErrorTypeMeta:
    return ErrorTypeMeta(category, code, status)


_C, _V, _A = ErrorCategory.CLIENT, ErrorCategory.VALIDATION, ErrorCategory.AUTH
_S, _T, _R = ErrorCategory.SERVER, ErrorCategory.TIMEOUT, ErrorCategory.RATE_LIMIT

_TYPE_META: Final[Mapping[ErrorType, ErrorTypeMeta]] = MappingProxyType(
    {
        ErrorType.VALIDATION: _m(_V, ErrorCode.VALIDATION_ERROR, 400),
        ErrorType.BAD_REQUEST: _m(_C, ErrorCode.BAD_REQUEST, 400),
        ErrorType.INVALID_REQUEST: _m(_C, ErrorCode.INVALID_REQUEST, 422),
        ErrorType.REQUIRED: _m(_V, ErrorCode.REQUIRED_FIELD_MISSING, 400),
        ErrorType.INVALID_FORMAT: _m(_V, ErrorCode.INVALID_FORMAT, 400),
        ErrorType.OUT_OF_RANGE: _m(_V, ErrorCode.VALUE_OUT_OF_RANGE, 400),
        ErrorType.DUPLICATE: _m(_V, ErrorCode.DUPLICATE_VALUE, 400),
        ErrorType.UNAUTHORIZED: _m(_A, ErrorCode.UNAUTHORIZED, 401),
        ErrorType.FORBIDDEN: _m(_A, ErrorCode.FORBIDDEN, 403),
        ErrorType.INVALID_TOKEN: _m(_A, ErrorCode.INVALID_TOKEN, 401),
        ErrorType.EXPIRED_TOKEN: _m(_A, ErrorCode.EXPIRED_TOKEN, 401),
        ErrorType.NOT_FOUND: _m(_C, ErrorCode.RESOURCE_NOT_FOUND, 404),
        ErrorType.CONFLICT: _m(_C, ErrorCode.RESOURCE_CONFLICT, 409),
        ErrorType.ALREADY_EXISTS: _m(_C, ErrorCode.RESOURCE_ALREADY_EXISTS, 409),
        ErrorType.GONE: _m(_C, ErrorCode.RESOURCE_GONE, 410),
        ErrorType.NOT_ACCEPTABLE: _m(_C, ErrorCode.NOT_ACCEPTABLE, 406),
        ErrorType.PAYLOAD_TOO_LARGE: _m(_C, ErrorCode.REQUEST_BODY_TOO_LARGE, 413),
        ErrorType.INTERNAL: _m(_S, ErrorCode.INTERNAL_ERROR, 500),
        ErrorType.UNAVAILABLE: _m(_S, ErrorCode.SERVICE_UNAVAILABLE, 503),
        ErrorType.TIMEOUT: _m(_T, ErrorCode.TIMEOUT, 408),
        ErrorType.RATE_LIMITED: _m(_R, ErrorCode.RATE_LIMITED, 429),
        ErrorType.MAINTENANCE: _m(_S, ErrorCode.MAINTENANCE_MODE, 503),
        ErrorType.METHOD_NOT_ALLOWED: _m(_C, ErrorCode.METHOD_NOT_ALLOWED, 405),
        ErrorType.NOT_IMPLEMENTED: _m(_S, ErrorCode.NOT_IMPLEMENTED, 501),
        ErrorType.BAD_GATEWAY: _m(_S, ErrorCode.BAD_GATEWAY, 502),
        ErrorType.GATEWAY_TIMEOUT: _m(_T, ErrorCode.GATEWAY_TIMEOUT, 504),
    }
)

_UNKNOWN_TYPE_META: Final = _m(_S, ErrorCode.INTERNAL_ERROR, 500)

_CODE_BY_STATUS: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: ErrorCode.BAD_REQUEST,
        401: ErrorCode.UNAUTHORIZED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.RESOURCE_NOT_FOUND,
        405: ErrorCode.METHOD_NOT_ALLOWED,
        408: ErrorCode.TIMEOUT,
        409: ErrorCode.RESOURCE_CONFLICT,
        410: ErrorCode.RESOURCE_GONE,
        413: ErrorCode.REQUEST_BODY_TOO_LARGE,
        422: ErrorCode.INVALID_REQUEST,
        429: ErrorCode.RATE_LIMITED,
        501: ErrorCode.NOT_IMPLEMENTED,
        502: ErrorCode.BAD_GATEWAY,
        503: ErrorCode.SERVICE_UNAVAILABLE,
        504: ErrorCode.GATEWAY_TIMEOUT,
    }
)

_MAX_DETAIL_DEPTH: Final = 16

# Go's net/http StatusText table, fixed here: http.HTTPStatus phrases change between Python versions
# (3.13 renamed 413 to "Content Too Large"), and error messages are part of the wire contract.
_STATUS_TEXT: Final[Mapping[int, str]] = MappingProxyType(
    {
        100: "Continue",
        101: "Switching Protocols",
        102: "Processing",
        103: "Early Hints",
        200: "OK",
        201: "Created",
        202: "Accepted",
        203: "Non-Authoritative Information",
        204: "No Content",
        205: "Reset Content",
        206: "Partial Content",
        207: "Multi-Status",
        208: "Already Reported",
        226: "IM Used",
        300: "Multiple Choices",
        301: "Moved Permanently",
        302: "Found",
        303: "See Other",
        304: "Not Modified",
        305: "Use Proxy",
        307: "Temporary Redirect",
        308: "Permanent Redirect",
        400: "Bad Request",
        401: "Unauthorized",
        402: "Payment Required",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        406: "Not Acceptable",
        407: "Proxy Authentication Required",
        408: "Request Timeout",
        409: "Conflict",
        410: "Gone",
        411: "Length Required",
        412: "Precondition Failed",
        413: "Request Entity Too Large",
        414: "Request URI Too Long",
        415: "Unsupported Media Type",
        416: "Requested Range Not Satisfiable",
        417: "Expectation Failed",
        418: "I'm a teapot",
        421: "Misdirected Request",
        422: "Unprocessable Entity",
        423: "Locked",
        424: "Failed Dependency",
        425: "Too Early",
        426: "Upgrade Required",
        428: "Precondition Required",
        429: "Too Many Requests",
        431: "Request Header Fields Too Large",
        451: "Unavailable For Legal Reasons",
        500: "Internal Server Error",
        501: "Not Implemented",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
        505: "HTTP Version Not Supported",
        506: "Variant Also Negotiates",
        507: "Insufficient Storage",
        508: "Loop Detected",
        510: "Not Extended",
        511: "Network Authentication Required",
    }
)

def status_text(status: int) -> str:
    """Go's ``http.StatusText(status)``, the same on every Python version; ``""`` when unknown."""
    return _STATUS_TEXT.get(status, "")


def _code_for_status(status: int) -> str:
    code = _CODE_BY_STATUS.get(status)
    if code is not None:
        return code
    return ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.INVALID_REQUEST


def _category_for_status(status: int) -> ErrorCategory:
    if status in (401, 403):
        return ErrorCategory.AUTH
    if status == 429:
        return ErrorCategory.RATE_LIMIT
    if status in (408, 504):
        return ErrorCategory.TIMEOUT
    if status >= 500:
        return ErrorCategory.SERVER
    return ErrorCategory.CLIENT


def _clone(value: Any, depth: int) -> Any:
    """Deep-copy dicts/lists/tuples (to a bounded depth) so callers cannot mutate stored details."""
    if depth >= _MAX_DETAIL_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {str(k): _clone(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clone(v, depth + 1) for v in value]
    return value


def _clone_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    return {k: _clone(v, 1) for k, v in details.items() if k}


class APIError(Exception):
    """A structured, client-safe error; renders as the canonical error envelope.

    Typed errors take status and category from :class:`ErrorType` (``code`` may override the code only).
    Untyped errors (``type=None``) derive code/category from ``status`` (default 500) like Go Plumego.
    The wrapped cause (``__cause__``) is never serialized.
    """

    __slots__ = ("_status", "_code", "_message", "_category", "_type", "_request_id", "_details")

    def __init__(
        self,
        type: ErrorType | str | None = None,  # noqa: A002 - mirrors the wire field name
        message: str = "",
        *,
        code: str = "",
        details: Mapping[str, Any] | None = None,
        request_id: str = "",
        status: int = 0,
        category: ErrorCategory | str | None = None,
    ) -> None:
        error_type: str = ""
        if type:
            try:
                known = ErrorType(type)
            except ValueError:
                meta = _UNKNOWN_TYPE_META
                error_type = str(type)
            else:
                meta = known.meta
                error_type = known.value
            status = meta.status
            resolved_category: str = meta.category.value
            code = code or meta.code
        else:
            status = status or 500
            if not 400 <= status <= 599:
                status = 500
                resolved_category = ErrorCategory.SERVER.value
                code = code or ErrorCode.INTERNAL_ERROR
            else:
                resolved_category = str(category) if category else _category_for_status(status).value
                code = code or _code_for_status(status)
        self._status = status
        self._code = code
        self._message = message or status_text(status)
        self._category = resolved_category
        self._type = error_type
        self._request_id = request_id.strip() if request_id else ""
        self._details = _clone_details(details)
        super().__init__(self._message)

    @property
    def status(self) -> int:
        return self._status

    @property
    def code(self) -> str:
        return self._code

    @property
    def message(self) -> str:
        return self._message

    @property
    def category(self) -> str:
        return self._category

    @property
    def type(self) -> str:
        """The error type string, ``""`` for untyped errors."""
        return self._type

    @property
    def request_id(self) -> str:
        return self._request_id

    @property
    def details(self) -> dict[str, Any]:
        """A deep copy of the details; mutating it does not change the error."""
        return {k: _clone(v, 1) for k, v in self._details.items()}

    def __repr__(self) -> str:
        return f"APIError(status={self._status}, code={self._code!r}, message={self._message!r})"

    def __str__(self) -> str:
        return f"{self._code}: {self._message}"


class ErrorBuilder:
    """Fluent builder for :class:`APIError` (Go ``NewErrorBuilder``); default is a 500 internal error.

    Like Go Plumego it has no status/category setters: those come from the type.
    """

    __slots__ = ("_type", "_code", "_message", "_details", "_request_id", "_cause")

    def __init__(self) -> None:
        self._type: ErrorType | str | None = None
        self._code = ""
        self._message = ""
        self._details: dict[str, Any] = {}
        self._request_id = ""
        self._cause: BaseException | None = None

    def type(self, error_type: ErrorType | str) -> ErrorBuilder:
        self._type = error_type
        return self

    def code(self, code: str) -> ErrorBuilder:
        self._code = code
        return self

    def message(self, message: str) -> ErrorBuilder:
        self._message = message
        return self

    def detail(self, key: str, value: Any) -> ErrorBuilder:
        self._details[key] = value
        return self

    def details(self, details: Mapping[str, Any]) -> ErrorBuilder:
        self._details.update(details)
        return self

    def request_id(self, request_id: str) -> ErrorBuilder:
        self._request_id = request_id
        return self

    def wrap(self, cause: BaseException) -> ErrorBuilder:
        self._cause = cause
        return self

    def build(self) -> APIError:
        err = APIError(
            self._type,
            self._message,
            code=self._code,
            details=self._details,
            request_id=self._request_id,
        )
        if self._cause is not None:
            err.__cause__ = self._cause
        return err


def as_api_error(exc: BaseException | None) -> APIError | None:
    """The first APIError in ``exc``'s cause/context chain (Go ``errors.As``), else None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, APIError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
