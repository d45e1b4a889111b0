"""Response types; each one is itself an ASGI app: ``await response(scope, receive, send)``.

Headers are encoded once at construction; HEAD requests get headers without the body. The envelope
responses read the request id from the scope at send time. Imports only the standard library.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from ._context import request_id_from_scope
from ._envelope import (
    InvalidResponseStatus,
    encode_error_envelope,
    encode_success_envelope,
    go_json,
)
from ._errors import APIError
from ._types import Receive, Scope, Send

__all__ = [
    "CONTENT_TYPE_JSON",
    "HEADER_CONTENT_TYPE",
    "EnvelopeResponse",
    "ErrorResponse",
    "JSONResponse",
    "PlainTextResponse",
    "Response",
    "StreamingResponse",
]

HEADER_CONTENT_TYPE: Final = "Content-Type"
CONTENT_TYPE_JSON: Final = "application/json"

_CT: Final = b"content-type"
_CL: Final = b"content-length"
_JSON_CT: Final = (_CT, b"application/json")
_START: Final = "http.response.start"
_BODY: Final = "http.response.body"
_WS_START: Final = "websocket.http.response.start"
_WS_BODY: Final = "websocket.http.response.body"
WS_CLOSE_POLICY_VIOLATION: Final = 1008

HeadersInput = Mapping[str, str] | Sequence[tuple[str, str]] | None


def _encode_headers(headers: HeadersInput) -> list[tuple[bytes, bytes]]:
    if not headers:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in items]


def _body_allowed(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


class Response:
    """A complete in-memory response (bytes or str body)."""

    __slots__ = ("status_code", "body", "raw_headers")

    media_type: str | None = None
    _media_header: tuple[bytes, bytes] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Pre-encode the Content-Type header once per class, not per response.
        cls._media_header = (_CT, cls.media_type.encode("latin-1")) if cls.media_type else None

    def __init__(
        self,
        content: bytes | str = b"",
        status: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status
        body = self.body = content.encode("utf-8") if isinstance(content, str) else content
        if headers is None and media_type is None and 200 <= status and status != 204 and status != 304:
            # Hot path: no custom headers; both header tuples are cheap to build.
            media = self._media_header
            length = (_CL, str(len(body)).encode("ascii"))
            self.raw_headers = [media, length] if media is not None else [length]
            return
        raw = _encode_headers(headers)
        media_type = media_type or self.media_type
        if media_type is not None and not any(k == _CT for k, _ in raw):
            raw.append((_CT, media_type.encode("latin-1")))
        if _body_allowed(status):
            raw.append((_CL, str(len(self.body)).encode("ascii")))
        elif self.body:
            self.body = b""
        self.raw_headers = raw

    def set_header(self, name: str, value: str) -> None:
        """Replace (or add) one header."""
        key = name.lower().encode("latin-1")
        self.raw_headers = [h for h in self.raw_headers if h[0] != key]
        self.raw_headers.append((key, value.encode("latin-1")))

    def add_header(self, name: str, value: str) -> None:
        """Append one header (keeps existing values, e.g. several Set-Cookie)."""
        self.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": _START, "status": self.status_code, "headers": self.raw_headers})
        await send({"type": _BODY, "body": b"" if scope.get("method") == "HEAD" else self.body})


class PlainTextResponse(Response):
    __slots__ = ()
    media_type = "text/plain; charset=utf-8"


class JSONResponse(Response):
    """Compact JSON (stdlib ``json``, Go-style HTML escaping), ``Content-Type: application/json``."""

    __slots__ = ()
    media_type = CONTENT_TYPE_JSON

    def __init__(self, content: Any, status: int = 200, headers: HeadersInput = None) -> None:
        super().__init__(go_json(content).encode("utf-8", "replace"), status, headers, None)


class EnvelopeResponse:
    """Success envelope ``{"data","meta","request_id"}`` (Go ``WriteResponse``); status must be 2xx.

    The request id comes from ``request_id`` or, at send time, from the scope carrier.
    """

    __slots__ = ("status_code", "data", "meta", "request_id", "raw_headers")

    def __init__(
        self,
        data: Any = None,
        meta: Mapping[str, Any] | None = None,
        status: int = 200,
        headers: HeadersInput = None,
        request_id: str = "",
    ) -> None:
        if not 200 <= status <= 299:
            raise InvalidResponseStatus(status)
        self.status_code = status
        self.data = data
        self.meta = meta
        self.request_id = request_id
        raw = _encode_headers(headers)
        if _body_allowed(status):
            raw.append(_JSON_CT)
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = self.raw_headers
        body = b""
        if _body_allowed(self.status_code):
            rid = self.request_id or request_id_from_scope(scope)
            body = encode_success_envelope(self.data, self.meta, rid)
            headers = [*headers, (_CL, str(len(body)).encode("ascii"))]
        await send({"type": _START, "status": self.status_code, "headers": headers})
        await send({"type": _BODY, "body": b"" if scope.get("method") == "HEAD" else body})


class ErrorResponse:
    """The canonical error envelope for an :class:`APIError` (Go ``WriteError``), status from the error.

    In a ``websocket`` scope (a handshake not yet accepted) it refuses the upgrade: the envelope and status go out
    through the ASGI ``websocket.http.response`` extension when the server has it (uvicorn does), otherwise the
    connection is closed with 1008 before accept (the server answers 403).
    """

    __slots__ = ("error", "raw_headers")

    def __init__(self, error: APIError, headers: HeadersInput = None) -> None:
        self.error = error
        self.raw_headers = _encode_headers(headers)

    @property
    def status_code(self) -> int:
        return self.error.status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = encode_error_envelope(self.error, request_id_from_scope(scope))
        headers = [*self.raw_headers, _JSON_CT, (_CL, str(len(body)).encode("ascii"))]
        if scope.get("type") == "websocket":
            # A refused handshake (before accept): the envelope with its status where the server offers the
            # ASGI websocket denial response, else a close before accept, which every server answers with 403.
            if "websocket.http.response" in (scope.get("extensions") or {}):
                await send({"type": _WS_START, "status": self.error.status, "headers": headers})
                await send({"type": _WS_BODY, "body": body})
            else:
                await send({"type": "websocket.close", "code": WS_CLOSE_POLICY_VIOLATION})
            return
        await send({"type": _START, "status": self.error.status, "headers": headers})
        await send({"type": _BODY, "body": b"" if scope.get("method") == "HEAD" else body})


_DONE: Final = object()


def _next_chunk(iterator: Iterator[bytes | str]) -> object:
    return next(iterator, _DONE)


class StreamingResponse:
    """Streams chunks from an async iterable (or a sync iterable, pulled in a worker thread)."""

    __slots__ = ("status_code", "content", "raw_headers")

    def __init__(
        self,
        content: AsyncIterable[bytes | str] | Iterable[bytes | str],
        status: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status
        self.content = content
        raw = _encode_headers(headers)
        if media_type is not None and not any(k == _CT for k, _ in raw):
            raw.append((_CT, media_type.encode("latin-1")))
        self.raw_headers = raw

    async def _chunks(self) -> AsyncIterable[bytes | str]:
        content = self.content
        if isinstance(content, AsyncIterable):
            async for chunk in content:
                yield chunk
            return
        iterator = iter(content)
        try:
            while True:
                item = await asyncio.to_thread(_next_chunk, iterator)
                if isinstance(item, (bytes, str)):
                    yield item
                else:
                    return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": _START, "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") != "HEAD":
            chunks = self._chunks()
            try:
                async for chunk in chunks:
                    data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                    await send({"type": _BODY, "body": data, "more_body": True})
            finally:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
        await send({"type": _BODY, "body": b"", "more_body": False})
