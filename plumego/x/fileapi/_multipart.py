"""Streaming ``multipart/form-data`` for uploads: the file part's bytes flow to storage as they arrive.

Owns :class:`MultipartUpload` over python-multipart's push parser (the parser Starlette and FastAPI use). Nothing is
buffered beyond one network chunk; the size limit is checked on every chunk, so an oversized upload is refused
after ``max_size`` bytes, not after the whole body; the file stream ends only after the closing boundary was
parsed, so a truncated body fails the upload before storage publishes anything. Install with
``pip install 'plumego[fileapi]'`` (imported when an upload is parsed). Imports the standard library,
plumego.contract and, lazily, python_multipart.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from plumego.contract import Request

__all__ = ["FilePartHeaders", "MalformedUploadError", "MultipartUpload", "UploadTooLargeError"]

_MAX_OTHER_FIELDS = 64 * 1024      # bytes of non-file parts (and headers) tolerated around the file


class MalformedUploadError(ValueError):
    """Not multipart, no boundary, no ``file`` part, bad framing, or a body that ends before its closing boundary."""


class UploadTooLargeError(ValueError):
    """The file (or the body around it) exceeds the limit."""


@dataclass(frozen=True, slots=True)
class FilePartHeaders:
    field: str
    filename: str
    content_type: str


def _parser_module() -> Any:
    try:
        import python_multipart.multipart as multipart
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("file uploads need python-multipart: pip install 'plumego[fileapi]'") from exc
    return multipart


class MultipartUpload:
    """One request body, read once: :meth:`file_part` finds the file's headers, :meth:`chunks` streams its bytes."""

    def __init__(self, request: Request, *, field: str = "file", max_size: int) -> None:
        multipart = _parser_module()
        kind, options = multipart.parse_options_header(request.headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise MalformedUploadError("the body must be multipart/form-data with a boundary")
        self._field = field
        self._max_size = max_size
        self._events: deque[tuple[str, Any]] = deque()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._ended = False
        self._body = request.stream()
        self._other_bytes = 0
        self._parse_error = multipart.MultipartParseError if hasattr(multipart, "MultipartParseError") else ValueError
        self._parser = multipart.MultipartParser(boundary, callbacks={
            "on_part_begin": self._on_part_begin,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": lambda: self._events.append(("headers", dict(self._headers))),
            "on_part_data": lambda d, s, e: self._events.append(("data", bytes(d[s:e]))),
            "on_part_end": lambda: self._events.append(("end_part", None)),
            "on_end": self._on_end,
        })

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("utf-8", "replace").strip()
        self._header_field.clear()
        self._header_value.clear()

    def _on_end(self) -> None:
        self._ended = True

    async def _next(self) -> tuple[str, Any]:
        """The next parser event; pulls body chunks as needed. Raises MalformedUploadError at a premature end."""
        while not self._events:
            if self._ended:
                return "end", None
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                raise MalformedUploadError("the multipart body is truncated (no closing boundary)") from None
            try:
                self._parser.write(chunk)
            except self._parse_error as exc:
                raise MalformedUploadError(f"malformed multipart body: {exc}") from None
        return self._events.popleft()

    def _count_other(self, size: int) -> None:
        self._other_bytes += size
        if self._other_bytes > _MAX_OTHER_FIELDS:
            raise UploadTooLargeError("too much data outside the file part")

    async def file_part(self) -> FilePartHeaders:
        """Skip other parts (bounded) up to the headers of the file part; its data comes from :meth:`chunks`."""
        multipart = _parser_module()
        while True:
            kind, value = await self._next()
            if kind == "end":
                raise MalformedUploadError(f"no {self._field!r} file part in the body")
            if kind == "data":
                self._count_other(len(value))
                continue
            if kind != "headers":
                continue
            disposition, params = multipart.parse_options_header(value.get("content-disposition", ""))
            name = params.get(b"name", b"").decode("utf-8", "replace")
            filename = params.get(b"filename")
            self._count_other(sum(len(k) + len(v) for k, v in value.items()))
            if disposition == b"form-data" and name == self._field and filename is not None:
                return FilePartHeaders(field=name, filename=filename.decode("utf-8", "replace"),
                                       content_type=value.get("content-type", "").split(";")[0].strip().lower())

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes; finishes only once the whole body (closing boundary included) was parsed."""
        size = 0
        while True:
            kind, value = await self._next()
            if kind == "data":
                size += len(value)
                if size > self._max_size:
                    raise UploadTooLargeError(f"the file exceeds the limit of {self._max_size} bytes")
                if value:
                    yield value
            elif kind in ("end_part", "end"):
                break
        while True:   # the rest of the body must be well formed (and small) too
            kind, value = await self._next()
            if kind == "end":
                return
            if kind == "data":
                self._count_other(len(value))
