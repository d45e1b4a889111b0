"""Route pattern parsing: canonical Go syntax ``/users/:id`` and ``/static/*filepath``.

``{id}`` and ``{filepath...}`` are accepted as aliases and rewritten to the canonical form, so listings,
route names in logs and reverse URLs always show one syntax. Regexes run at registration only.
Imports only the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["PatternError", "Segment", "parse_pattern", "normalize_prefix"]

_IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BAD_STATIC: Final = re.compile(r"[\s{}?#]")

STATIC: Final = 0
PARAM: Final = 1
WILDCARD: Final = 2


class PatternError(ValueError):
    """A route pattern is malformed (the reason, without the method/path prefix)."""


@dataclass(frozen=True, slots=True)
class Segment:
    kind: int  # STATIC, PARAM or WILDCARD
    value: str  # the literal text, or the parameter name


def normalize_prefix(prefix: str) -> str:
    """A group prefix: ``""`` or ``/a/b`` (leading ``/`` required, trailing ``/`` dropped)."""
    if prefix == "":
        return ""
    if not prefix.startswith("/"):
        raise ValueError(f"router group prefix must start with '/': {prefix!r}")
    body = prefix.strip("/")
    return "/" + body if body else ""


def parse_pattern(path: str) -> tuple[str, tuple[Segment, ...]]:
    """Parse ``path`` into (canonical pattern, segments). ``""`` means the root ``/`` (group root)."""
    if path and not path.startswith("/"):
        raise PatternError("path must start with '/'")
    body = path.strip("/")
    if not body:
        return "/", ()
    if "//" in body:
        raise PatternError("empty path segment ('//')")
    segments: list[Segment] = []
    names: set[str] = set()
    parts = body.split("/")
    for index, raw in enumerate(parts):
        seg = _parse_segment(raw)
        if seg.kind != STATIC:
            if seg.value in names:
                raise PatternError(f"duplicate parameter name {seg.value!r}")
            names.add(seg.value)
            if seg.kind == WILDCARD and index != len(parts) - 1:
                raise PatternError(f"catch-all '*{seg.value}' must be the last segment")
        segments.append(seg)
    canonical = "/" + "/".join(
        s.value if s.kind == STATIC else (":" if s.kind == PARAM else "*") + s.value for s in segments
    )
    return canonical, tuple(segments)


def _parse_segment(raw: str) -> Segment:
    if raw.startswith(":"):
        return Segment(PARAM, _name(raw[1:], raw))
    if raw.startswith("*"):
        return Segment(WILDCARD, _name(raw[1:], raw))
    if raw.startswith("{") and raw.endswith("}"):
        inner = raw[1:-1]
        if inner.endswith("..."):
            return Segment(WILDCARD, _name(inner[:-3], raw))
        return Segment(PARAM, _name(inner, raw))
    if _BAD_STATIC.search(raw):
        raise PatternError(f"invalid characters in segment {raw!r}")
    return Segment(STATIC, raw)


def _name(name: str, raw: str) -> str:
    if not _IDENT.match(name):
        raise PatternError(f"invalid parameter name in segment {raw!r} (want [A-Za-z_][A-Za-z0-9_]*)")
    return name
