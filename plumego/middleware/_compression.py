"""Compression middleware: gzip response bodies when the client accepts it and the content benefits.

Owns Accept-Encoding negotiation (q-values), Go plumego's skip rules and streaming-safe gzip (each
streamed chunk is flushed so clients see data as it is produced). Imports only the standard library
and plumego.contract.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Final

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send, parse_int

_SKIP_PREFIXES: Final = ("image/", "video/", "audio/")
_SKIP_TYPES: Final = frozenset(
    {"application/zip", "application/gzip", "application/x-gzip", "application/pdf", "application/octet-stream"}
)


_QVALUE: Final = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\Z", re.ASCII)


def _qvalue(text: str) -> float:
    """RFC 9110 ``qvalue`` (``0`` to ``1`` with at most three decimals); anything else counts as 0, not as
    whatever ``float()`` makes of ``nan``, ``1e3`` or ``1_0``."""
    return float(text) if _QVALUE.match(text) else 0.0


def accepts_gzip(accept_encoding: str) -> bool:
    """True when ``Accept-Encoding`` allows gzip: ``gzip`` (or ``x-gzip``) with q>0, or ``*`` with q>0
    and gzip not explicitly refused."""
    gzip_q: float | None = None
    star_q: float | None = None
    for item in accept_encoding.split(","):
        token, _, params = item.partition(";")
        coding = token.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _qvalue(value.strip())
        if coding in ("gzip", "x-gzip"):
            gzip_q = q if gzip_q is None else max(gzip_q, q)
        elif coding == "*":
            star_q = q
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


def compressible_content_type(content_type: str) -> bool:
    """Go plumego's content-type rule: skip streams, websockets, media, archives, PDF and raw bytes."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not media or "stream" in media or "websocket" in media:
        return False
    return not media.startswith(_SKIP_PREFIXES) and media not in _SKIP_TYPES


def compression(*, min_size: int = 256, level: int = 6) -> Middleware:
    """Gzip HTTP response bodies.

    Skipped when: the client does not accept gzip; the request is HEAD, an Upgrade, or asks for
    ``text/event-stream``; the status is below 200, 204, 304 or >= 400; ``Content-Type`` is missing or
    not compressible (:func:`compressible_content_type`); ``Content-Encoding`` is already set; or the
    whole body is known to be smaller than ``min_size`` bytes. When compressing, ``Content-Encoding:
    gzip`` and ``Vary: Accept-Encoding`` are set, ``Content-Length`` is recomputed (single-message
    bodies) or dropped (streams), and a strong ``ETag`` becomes weak.
    """
    if not 0 <= level <= 9:
        raise ValueError("level must be 0..9")
    if min_size < 0:
        raise ValueError("min_size must be >= 0")

    def wrap(app: ASGIApp) -> ASGIApp:
        async def compression_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope.get("method") == "HEAD":
                await app(scope, receive, send)
                return
            accept_encoding = b""
            for key, value in scope.get("headers") or ():
                if key == b"accept-encoding":
                    accept_encoding = bytes(value) if not accept_encoding else accept_encoding + b"," + value
                elif key == b"upgrade" or (key == b"accept" and b"text/event-stream" in bytes(value).lower()):
                    await app(scope, receive, send)
                    return
            if not accept_encoding or not accepts_gzip(accept_encoding.decode("latin-1")):
                await app(scope, receive, send)
                return
            await _GzipResponder(app, min_size, level)(scope, receive, send)

        return compression_app

    return wrap


class _GzipResponder:
    """Per-request state machine: hold ``http.response.start`` until the first body chunk decides."""

    __slots__ = ("app", "min_size", "level", "send", "start", "mode", "compressor")

    def __init__(self, app: ASGIApp, min_size: int, level: int) -> None:
        self.app = app
        self.min_size = min_size
        self.level = level
        self.start: Message | None = None
        self.mode = "undecided"  # undecided | passthrough | gzip
        self.compressor: zlib._Compress | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.send_wrapper)

    async def send_wrapper(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._eligible(message):
                self.start = message  # decided by the first body chunk
            else:
                self.mode = "passthrough"
                await self.send(message)
            return
        if kind != "http.response.body" or self.mode == "passthrough":
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self.mode == "undecided":
            start = self.start
            assert start is not None
            self.start = None
            if not more and len(body) < self.min_size:
                self.mode = "passthrough"
                await self.send(start)
                await self.send(message)
                return
            self.mode = "gzip"
            self.compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)
            if not more:
                data = self.compressor.compress(body) + self.compressor.flush()
                await self.send({**start, "headers": _gzip_headers(start.get("headers") or (), len(data))})
                await self.send({**message, "body": data})
                return
            await self.send({**start, "headers": _gzip_headers(start.get("headers") or (), None)})
        compressor = self.compressor
        assert compressor is not None
        if more:
            data = compressor.compress(body)
            if body:
                data += compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = compressor.compress(body) + compressor.flush()
        await self.send({**message, "body": data})

    def _eligible(self, start: Message) -> bool:
        status = int(start["status"])
        if status < 200 or status in (204, 304) or status >= 400:
            return False
        content_type = ""
        length: int | None = None
        for key, value in start.get("headers") or ():
            name = bytes(key).lower()
            if name == b"content-encoding":
                return False
            if name == b"content-type":
                content_type = bytes(value).decode("latin-1")
            elif name == b"content-length":
                try:
                    length = parse_int(value, minimum=0)
                except ValueError:
                    length = None
        if not compressible_content_type(content_type):
            return False
        return length is None or length >= self.min_size


def _gzip_headers(headers: Iterable[tuple[bytes, bytes]], length: int | None) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    vary_seen = False
    for key, value in headers:
        name = bytes(key).lower()
        if name == b"content-length":
            continue
        if name == b"etag" and not bytes(value).startswith(b"W/"):
            value = b"W/" + bytes(value)
        if name == b"vary":
            vary_seen = True
            items = {item.strip().lower() for item in bytes(value).split(b",")}
            if b"accept-encoding" not in items and b"*" not in items:
                value = bytes(value) + b", Accept-Encoding"
        out.append((key, value))
    if not vary_seen:
        out.append((b"vary", b"Accept-Encoding"))
    out.append((b"content-encoding", b"gzip"))
    if length is not None:
        out.append((b"content-length", str(length).encode("ascii")))
    return out
