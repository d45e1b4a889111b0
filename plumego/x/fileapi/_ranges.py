"""HTTP byte ranges and validators for downloads (RFC 9110 §13-14): one range, ETag, If-None-Match, If-Range.

Owns pure functions over header strings; no I/O. Several ranges in one request get the whole file (allowed by the
RFC, and it spares a multipart/byteranges body). Imports the standard library.
"""

from __future__ import annotations

import re

__all__ = ["RangeNotSatisfiable", "etag_matches", "parse_range"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(ValueError):
    """The range starts past the end of the file: answer 416 with ``Content-Range: bytes */size``."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single satisfiable range; None to send the whole file (no header, a
    syntax error or several ranges); raises :class:`RangeNotSatisfiable`."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:                                   # suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable("empty suffix range")
        return max(0, size - length), size
    start = int(first)
    end = size if not last else int(last) + 1
    if last and end <= start:
        return None                                 # syntactically invalid (last < first): ignore
    if start >= size:
        raise RangeNotSatisfiable(f"range starts at {start}, the file has {size} bytes")
    return start, min(end, size)


def etag_matches(header: str | None, etag: str, *, weak: bool = True) -> bool:
    """Whether an If-None-Match / If-Range style list names ``etag`` (``*`` matches anything for lists)."""
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" and weak:
            return True
        if weak and tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False
