"""uvicorn's two HTTP/1.1 protocols (h11 and httptools) with a request-head read deadline, a request-head size
limit and the canonical JSON envelope on the errors the server answers itself.

uvicorn has no header timeout and httptools has no header size limit, and both answer a malformed request with
plain text. These subclasses add Go's ``ReadHeaderTimeout`` / ``MaxHeaderBytes`` (408 / 431, then close) and
answer 400 / 408 / 431 with the error envelope, a fresh ``X-Request-ID`` and the default security headers.
Imports uvicorn and h11 (core's approved server and its parser) lazily: the classes are built on first use,
so the kernel still imports with the standard library alone.
"""

from __future__ import annotations

import asyncio
import functools
import http
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from plumego.contract import APIError, ASGIApp, ErrorType, Receive, Scope, Send, encode_error_envelope
from plumego.middleware import RequestIDGenerator

if TYPE_CHECKING:
    from uvicorn.server import ServerState

__all__ = ["HeaderLimits", "guarded_protocol", "render_server_error"]

HTTP_IMPLEMENTATIONS: Final = ("auto", "h11", "httptools")

# The headers of plumego.security's default policy (plain HTTP); a test keeps the two in step. Server-originated
# errors never reach the app's security_headers middleware, so they carry this fixed, always-safe set.
DEFAULT_SECURITY_HEADERS: Final = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
CODE_HEADERS_TOO_LARGE: Final = "REQUEST_HEADER_FIELDS_TOO_LARGE"
CODE_HEADER_TIMEOUT: Final = "REQUEST_HEADER_TIMEOUT"


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    """``read_timeout``: seconds a client has to send a complete request head, counted from the connection's
    start or from the first byte of a later request (idle time between requests is uvicorn's keep-alive
    timeout); ``max_bytes``: the largest request head (request line plus header fields). 0 disables either."""

    read_timeout: float = 5.0
    max_bytes: int = 1 << 20


def _error_parts(err: APIError) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of the envelope answering ``err`` on a connection about to close."""
    request_id = RequestIDGenerator()()
    body = encode_error_envelope(err, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"x-request-id", request_id.encode("ascii")),
        *DEFAULT_SECURITY_HEADERS,
        (b"connection", b"close"),
    ]
    return headers, body


def render_server_error(err: APIError, default_headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """A complete ``HTTP/1.1`` response answering ``err`` with the error envelope, then ``Connection: close``."""
    headers, body = _error_parts(err)
    try:
        phrase = http.HTTPStatus(err.status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {err.status} {phrase}\r\n".encode("ascii")]
    lines += [name + b": " + value + b"\r\n" for name, value in [*(default_headers or ()), *headers]]
    lines += [b"\r\n", body]
    return b"".join(lines)


def _too_large(limit: int) -> APIError:
    return APIError(status=431, code=CODE_HEADERS_TOO_LARGE, message="request header fields too large",
                    details={"max_bytes": limit})


def _head_size(scope: Scope) -> int:
    """Bytes of the request line and header fields as they were on the wire (give or take separators)."""
    size = len(scope.get("method", "")) + len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) + 12
    for name, value in scope.get("headers", ()):
        size += len(name) + len(value) + 4
    return size


class _HeadGuard:
    """Per-connection head deadline and size accounting shared by both protocols.

    ``_head_bytes`` counts what arrived while a request head was incomplete, so a head that never ends is cut
    off at the limit (plus one read) instead of being buffered by the parser without bound.
    """

    limits: HeaderLimits
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    server_state: ServerState
    cycle: Any

    def _guard_init(self, limits: HeaderLimits) -> None:
        self.limits = limits
        self._limit = limits.max_bytes if limits.max_bytes > 0 else sys.maxsize
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._answered = False

    # --- subclass hooks --------------------------------------------------------------------------
    def _awaiting_head(self) -> bool:
        raise NotImplementedError

    # --- deadline --------------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        if self._head_timer is None and self.limits.read_timeout > 0:
            self._head_timer = self.loop.call_later(self.limits.read_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._answered or self.transport.is_closing() or not self._awaiting_head():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head behind a response still being written: its clock starts when that one ends.
            self._arm_head_timer()
            return
        if self._head_bytes == 0:
            self._answered = True
            self.transport.close()  # an idle connection is closed silently, as Go does
            return
        self._reject(APIError(ErrorType.TIMEOUT, "request header read timeout", code=CODE_HEADER_TIMEOUT))

    # --- answering -------------------------------------------------------------------------------
    def _reject(self, err: APIError) -> None:
        self._answered = True
        self._disarm_head_timer()
        if not self.transport.is_closing():
            self.transport.write(render_server_error(err, self.server_state.default_headers))
            self.transport.close()

    def _server_error(self) -> APIError:
        """What the server's "Invalid HTTP request received." becomes: 431 when the head outgrew the limit."""
        if self._head_bytes > self._limit:
            return _too_large(self.limits.max_bytes)
        return APIError(ErrorType.BAD_REQUEST, "invalid HTTP request")


class _StopParsing(Exception):
    """Raised from a parser callback after the connection was answered and closed."""


@functools.cache
def _h11_protocol() -> type[asyncio.Protocol]:
    import h11
    from uvicorn.config import Config
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.server import ServerState

    class GuardedH11Protocol(_HeadGuard, H11Protocol):
        """uvicorn's h11 protocol with the head deadline, the head size limit and envelope errors."""

        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, Any],
            _loop: asyncio.AbstractEventLoop | None = None,
            *,
            limits: HeaderLimits = HeaderLimits(),
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self._guard_init(limits)
            self._check_scope: Any = None
            self.app = self._checked_app(self.app)

        def _awaiting_head(self) -> bool:
            return self.conn.their_state is h11.IDLE

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._answered:
                return
            idle = h11.IDLE
            waiting = self.conn.their_state is idle
            if waiting:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._answered or self.transport.is_closing():
                return
            if self.conn.their_state is idle:
                if self._head_bytes > self._limit:
                    self._reject(_too_large(self.limits.max_bytes))
                elif self._head_bytes:
                    self._arm_head_timer()  # only a head left incomplete by this read needs a deadline
            elif waiting:
                # The head completed in this read; one over the limit by less than a read is caught by the app check.
                if self._head_bytes > self._limit:
                    self._check_scope = self.scope
                self._head_bytes = 0
                if self._head_timer is not None:
                    self._disarm_head_timer()

        def send_400_response(self, msg: str) -> None:
            if not self._answered:
                self._reject(self._server_error())

        def _checked_app(self, app: ASGIApp) -> ASGIApp:
            limit = self.limits.max_bytes

            async def head_size_checked(scope: Scope, receive: Receive, send: Send) -> None:
                if scope is self._check_scope:
                    self._check_scope = None
                    if _head_size(scope) > limit:
                        headers, body = _error_parts(_too_large(limit))
                        await send({"type": "http.response.start", "status": 431, "headers": headers})
                        await send({"type": "http.response.body", "body": body})
                        return
                await app(scope, receive, send)

            return head_size_checked if limit else app

    return GuardedH11Protocol


@functools.cache
def _httptools_protocol() -> type[asyncio.Protocol]:
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    class GuardedHttpToolsProtocol(_HeadGuard, HttpToolsProtocol):
        """uvicorn's httptools protocol with the head deadline, the head size limit and envelope errors."""

        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, Any],
            _loop: asyncio.AbstractEventLoop | None = None,
            *,
            limits: HeaderLimits = HeaderLimits(),
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self._guard_init(limits)
            self._waiting = True

        def _awaiting_head(self) -> bool:
            return self._waiting

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._answered:
                return
            if self._waiting:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._waiting and self._head_bytes and not self._answered:
                if self._head_bytes > self._limit:
                    self._reject(_too_large(self.limits.max_bytes))
                else:
                    self._arm_head_timer()  # only a head left incomplete by this read needs a deadline

        def on_headers_complete(self) -> None:
            if self._head_bytes > self._limit and _head_size({**self.scope, "raw_path": self.url}) > self._limit:
                self._reject(_too_large(self.limits.max_bytes))
                raise _StopParsing
            self._waiting = False
            self._head_bytes = 0
            if self._head_timer is not None:
                self._disarm_head_timer()
            HttpToolsProtocol.on_headers_complete(self)

        def on_message_complete(self) -> None:
            HttpToolsProtocol.on_message_complete(self)
            self._waiting = True
            self._head_bytes = 0

        def send_400_response(self, msg: str) -> None:
            if not self._answered:
                self._reject(self._server_error())

    return GuardedHttpToolsProtocol


@functools.cache
def _protocol_class(implementation: str) -> type[asyncio.Protocol]:
    if implementation == "h11":
        return _h11_protocol()
    try:
        return _httptools_protocol()
    except ImportError:  # httptools is optional: uvicorn's "auto" falls back to h11 the same way
        if implementation == "httptools":
            raise
        return _h11_protocol()


def guarded_protocol(implementation: str = "auto", limits: HeaderLimits = HeaderLimits()) -> Any:
    """The ``http=`` value for ``uvicorn.Config``: a protocol factory for ``implementation`` (``"auto"`` picks
    httptools when installed, as uvicorn does) enforcing ``limits``. Picklable, so ``--workers`` and ``--reload``
    work."""
    if implementation not in HTTP_IMPLEMENTATIONS:
        raise ValueError(f"http implementation must be one of {', '.join(HTTP_IMPLEMENTATIONS)}")
    return functools.partial(_protocol_for, implementation, limits)


def _protocol_for(implementation: str, limits: HeaderLimits, **kwargs: Any) -> asyncio.Protocol:
    return _protocol_class(implementation)(limits=limits, **kwargs)  # type: ignore[call-arg]
