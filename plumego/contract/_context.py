"""Per-request carriers in the ASGI scope: request id, trace context and the matched route.

Each carrier lives under a dedicated, namespaced scope key (``plumego.request_id``, ``plumego.trace``,
``plumego.route``) plus the de-facto ASGI key ``path_params``. Scope keys travel to every inner app
(middleware pass the scope down; mounts copy it). Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from ._types import Scope

__all__ = [
    "REQUEST_ID_HEADER",
    "SCOPE_PATH_PARAMS",
    "SCOPE_REQUEST_ID",
    "SCOPE_ROUTE",
    "SCOPE_TRACE",
    "RouteContext",
    "TraceContext",
    "path_params_from_scope",
    "request_id_from_scope",
    "route_context_from_scope",
    "trace_context_from_scope",
    "valid_request_id",
    "with_request_id",
    "with_route_context",
    "with_trace_context",
]

REQUEST_ID_HEADER: Final = "X-Request-ID"

SCOPE_REQUEST_ID: Final = "plumego.request_id"
"""Scope key holding the validated request id (``str``)."""
SCOPE_TRACE: Final = "plumego.trace"
"""Scope key holding the :class:`TraceContext`."""
SCOPE_ROUTE: Final = "plumego.route"
"""Scope key holding the matched route's :class:`RouteContext` (set by the router)."""
SCOPE_PATH_PARAMS: Final = "path_params"
"""Scope key holding ``dict[str, str]`` of path parameters (the ASGI ecosystem's common key)."""

_MAX_REQUEST_ID_BYTES: Final = 128
_ASCII_SPACE: Final = " \t\n\v\f\r"
_HEX: Final = frozenset("0123456789abcdefABCDEF")


def valid_request_id(request_id: str) -> str:
    """The trimmed id if acceptable, else ``""``: non-empty, at most 128 UTF-8 bytes, every character printable.

    Trimming removes ASCII whitespace only (Go's ``TrimSpace`` on what a header can carry). "Printable" is
    ``str.isprintable``: one rule for ASCII and non-ASCII ids, so C0/DEL (as in Go) and also C1 controls
    (U+0085, U+009B), line/paragraph separators (U+2028, U+2029), bidi and other format characters
    (U+202E), non-space separators and lone surrogates are refused; Go accepts the non-ASCII ones.
    """
    rid = request_id.strip(_ASCII_SPACE)
    if not rid or not rid.isprintable():
        return ""
    if rid.isascii():
        return rid if len(rid) <= _MAX_REQUEST_ID_BYTES else ""
    if len(rid.encode("utf-8")) > _MAX_REQUEST_ID_BYTES:
        return ""
    return rid


def with_request_id(scope: Scope, request_id: str) -> bool:
    """Store ``request_id`` in the scope if valid; invalid ids are silently not stored. Returns stored?"""
    rid = valid_request_id(request_id)
    if not rid:
        return False
    scope[SCOPE_REQUEST_ID] = rid
    return True


def request_id_from_scope(scope: Scope) -> str:
    """The request id stored in the scope, ``""`` when none."""
    rid = scope.get(SCOPE_REQUEST_ID)
    return rid if isinstance(rid, str) else ""


def _is_hex_id(value: str, length: int) -> bool:
    return len(value) == length and all(c in _HEX for c in value) and value.strip("0") != ""


@dataclass(frozen=True, slots=True)
class TraceContext:
    """W3C-style trace identifiers for one request (JSON: trace_id, span_id, parent_span_id?, baggage?, flags)."""

    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str | None = None
    baggage: Mapping[str, str] = field(default_factory=dict)
    flags: int = 0

    def __post_init__(self) -> None:
        # Defensive copy: the stored carrier cannot be changed through the caller's dict.
        object.__setattr__(self, "baggage", MappingProxyType(dict(self.baggage)))
        object.__setattr__(self, "flags", self.flags & 0xFF)

    def has_trace_id(self) -> bool:
        return _is_hex_id(self.trace_id, 32)

    def has_span_id(self) -> bool:
        return _is_hex_id(self.span_id, 16)

    def valid(self) -> bool:
        return self.has_trace_id() and self.has_span_id()

    @property
    def sampled(self) -> bool:
        return bool(self.flags & 0x01)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trace_id": self.trace_id, "span_id": self.span_id}
        if self.parent_span_id is not None:
            out["parent_span_id"] = self.parent_span_id
        if self.baggage:
            out["baggage"] = dict(self.baggage)
        out["flags"] = self.flags
        return out


def with_trace_context(scope: Scope, trace: TraceContext) -> None:
    scope[SCOPE_TRACE] = trace


def trace_context_from_scope(scope: Scope) -> TraceContext | None:
    trace = scope.get(SCOPE_TRACE)
    return trace if isinstance(trace, TraceContext) else None


@dataclass(frozen=True, slots=True)
class RouteContext:
    """What the router matched: the route pattern (``/users/:id``), its name and tags. One per route, shared."""

    method: str
    pattern: str
    name: str = ""
    tags: tuple[str, ...] = ()


def with_route_context(scope: Scope, route: RouteContext, params: dict[str, str]) -> None:
    scope[SCOPE_ROUTE] = route
    scope[SCOPE_PATH_PARAMS] = params


def route_context_from_scope(scope: Scope) -> RouteContext | None:
    route = scope.get(SCOPE_ROUTE)
    return route if isinstance(route, RouteContext) else None


def path_params_from_scope(scope: Scope) -> dict[str, str]:
    params = scope.get(SCOPE_PATH_PARAMS)
    return params if isinstance(params, dict) else {}
