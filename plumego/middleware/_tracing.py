"""Tracing middleware: W3C ``traceparent`` in, a new span per request, the trace carrier in the scope.

Owns traceparent parsing/formatting and span timing. Exporting spans is the caller's business (an
``on_end`` callback); plumego.x.observability adapts it to OpenTelemetry. Imports only the standard
library and plumego.contract.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from plumego.contract import (
    ASGIApp,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
    TraceContext,
    request_id_from_scope,
    with_trace_context,
)
from plumego.middleware._asgi import run_measured

_HEX: Final = frozenset("0123456789abcdef")
_SPAN_HEADER: Final = b"x-span-id"
_TRACEPARENT: Final = b"traceparent"
_TRACESTATE: Final = b"tracestate"
_BAGGAGE: Final = b"baggage"
_MAX_BAGGAGE_BYTES: Final = 8192
_MAX_BAGGAGE_MEMBERS: Final = 180
_BAGGAGE_KEY_FORBIDDEN: Final = frozenset(' \t"(),/:;<=>?@[\\]{}')


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A parsed W3C ``traceparent`` header (version 00 layout)."""

    trace_id: str
    parent_id: str
    flags: int


def parse_traceparent(value: str) -> TraceParent | None:
    """Parse ``00-<32 hex>-<16 hex>-<2 hex>``; None for anything invalid per W3C Trace Context.

    Lowercase hex only; all-zero ids and version ``ff`` are invalid. Future versions are accepted when
    their first four fields have the version-00 shape (the spec's forward-compatibility rule).
    """
    value = value.strip()
    parts = value.split("-")
    if len(parts) < 4:
        return None
    version, trace_id, parent_id, flags = parts[0], parts[1], parts[2], parts[3]
    if len(version) != 2 or not _is_hex(version) or version == "ff":
        return None
    if version == "00" and len(parts) != 4:
        return None
    if len(trace_id) != 32 or not _is_hex(trace_id) or trace_id == "0" * 32:
        return None
    if len(parent_id) != 16 or not _is_hex(parent_id) or parent_id == "0" * 16:
        return None
    if len(flags) != 2 or not _is_hex(flags):
        return None
    return TraceParent(trace_id, parent_id, int(flags, 16))


def parse_baggage(value: str) -> dict[str, str]:
    """Parse a W3C ``baggage`` header (``k=v,k2=v2;prop``) into a dict; malformed members are skipped.

    Values are percent-decoded; properties after ``;`` are dropped; at most 180 members, as the spec allows.
    """
    out: dict[str, str] = {}
    for member in value[:_MAX_BAGGAGE_BYTES].split(","):
        pair = member.split(";", 1)[0]
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key or any(char in _BAGGAGE_KEY_FORBIDDEN for char in key):
            continue
        out[key] = unquote(raw.strip())
        if len(out) >= _MAX_BAGGAGE_MEMBERS:
            break
    return out


def format_traceparent(trace: TraceContext) -> str:
    """The ``traceparent`` value for calls made on behalf of ``trace`` (its span becomes their parent)."""
    return f"00-{trace.trace_id}-{trace.span_id}-{trace.flags & 0xFF:02x}"


def _is_hex(text: str) -> bool:
    return all(char in _HEX for char in text)


@dataclass(frozen=True, slots=True)
class FinishedSpan:
    """Handed to ``on_end`` when a request's span ends. ``duration`` is in seconds."""

    trace: TraceContext
    method: str
    path: str
    status: int
    bytes_written: int
    duration: float
    request_id: str
    tracestate: str


def tracing(
    *,
    on_end: Callable[[FinishedSpan], None] | None = None,
    sample: bool = True,
) -> Middleware:
    """Start a span for every HTTP request and store its :class:`TraceContext` in the scope.

    A valid incoming ``traceparent`` continues that trace (its parent id becomes ``parent_span_id``,
    its flags are kept); otherwise a new trace id is drawn and the sampled flag is ``sample``. W3C
    ``baggage`` is parsed into the carrier. Every request gets a fresh 16-hex span id, echoed in the
    ``X-Span-ID`` response header. ``on_end`` is called after the inner app finishes (also when it
    raises); its own errors are swallowed.
    """
    rng = random.Random(secrets.randbits(64))
    new_flags = 0x01 if sample else 0x00

    def new_span_id() -> str:
        span = rng.getrandbits(64)
        while span == 0:
            span = rng.getrandbits(64)
        return f"{span:016x}"

    def new_trace_id() -> str:
        trace = rng.getrandbits(128)
        while trace == 0:
            trace = rng.getrandbits(128)
        return f"{trace:032x}"

    def wrap(app: ASGIApp) -> ASGIApp:
        async def tracing_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            parent: TraceParent | None = None
            tracestate = ""
            baggage: dict[str, str] = {}
            for key, value in scope.get("headers") or ():
                if key == _TRACEPARENT and parent is None:
                    parent = parse_traceparent(bytes(value).decode("latin-1"))
                elif key == _TRACESTATE and not tracestate:
                    tracestate = bytes(value).decode("latin-1")[:_MAX_BAGGAGE_BYTES]
                elif key == _BAGGAGE and not baggage:
                    baggage = parse_baggage(bytes(value).decode("latin-1"))
            span_id = new_span_id()
            if parent is not None:
                trace = TraceContext(
                    trace_id=parent.trace_id,
                    span_id=span_id,
                    parent_span_id=parent.parent_id,
                    baggage=baggage,
                    flags=parent.flags,
                )
            else:
                trace = TraceContext(trace_id=new_trace_id(), span_id=span_id, baggage=baggage, flags=new_flags)
            with_trace_context(scope, trace)
            span_header = span_id.encode("ascii")

            async def span_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*(message.get("headers") or ()), (_SPAN_HEADER, span_header)]}
                await send(message)

            if on_end is None:
                await app(scope, receive, span_send)
                return
            export = on_end

            def finish(status: int, written: int, elapsed: float) -> None:
                export(FinishedSpan(trace=trace, method=scope.get("method", ""), path=scope.get("path", ""),
                                    status=status, bytes_written=written, duration=elapsed,
                                    request_id=request_id_from_scope(scope), tracestate=tracestate))

            await run_measured(app, scope, receive, span_send, finish)

        return tracing_app

    return wrap
