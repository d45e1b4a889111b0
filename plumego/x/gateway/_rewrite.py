"""Path rewrites and header modifiers for the proxy (Go ``StripPrefix``, ``AddPrefix``, ``ReplacePrefix``,
``RewriteMap``, ``RewriteRegex``, ``Chain`` and the Add/Set/Del header modifiers).

A rewrite is ``Callable[[str], str]`` over the request path; a modifier is ``Callable[[HeaderList], None]`` over a
mutable header list. Imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

__all__ = [
    "HeaderList",
    "HeaderModifier",
    "PathRewrite",
    "add_header",
    "add_prefix",
    "chain",
    "chain_modifiers",
    "delete_header",
    "replace_prefix",
    "rewrite_map",
    "rewrite_regex",
    "set_header",
    "strip_prefix",
]

PathRewrite = Callable[[str], str]


def _norm_prefix(prefix: str) -> str:
    if not prefix.startswith("/"):
        raise ValueError(f"a path prefix starts with '/', got {prefix!r}")
    return prefix.rstrip("/")


def _has_prefix(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def strip_prefix(prefix: str) -> PathRewrite:
    """``/api/users`` -> ``/users`` for prefix ``/api``; a path not under the prefix is left alone (segment-wise:
    ``/apix`` is not under ``/api``)."""
    p = _norm_prefix(prefix)

    def rewrite(path: str) -> str:
        return (path[len(p):] or "/") if p and _has_prefix(path, p) else path

    return rewrite


def add_prefix(prefix: str) -> PathRewrite:
    p = _norm_prefix(prefix)
    return lambda path: p + path if path.startswith("/") else f"{p}/{path}"


def replace_prefix(old: str, new: str) -> PathRewrite:
    o, n = _norm_prefix(old), _norm_prefix(new)

    def rewrite(path: str) -> str:
        return (n + path[len(o):]) or "/" if _has_prefix(path, o) else path

    return rewrite


def rewrite_map(mapping: Mapping[str, str]) -> PathRewrite:
    """Exact paths replaced by others; anything else unchanged."""
    table = dict(mapping)
    return lambda path: table.get(path, path)


def rewrite_regex(pattern: str, replacement: str) -> PathRewrite:
    """``re.sub`` on the path (``\\1`` back-references), e.g. ``rewrite_regex(r"^/v1/(.*)$", r"/api/\\1")``."""
    compiled = re.compile(pattern)
    return lambda path: compiled.sub(replacement, path)


def chain(*rewrites: PathRewrite) -> PathRewrite:
    def rewrite(path: str) -> str:
        for step in rewrites:
            path = step(path)
        return path

    return rewrite


class HeaderList:
    """An ordered, case-insensitive, multi-valued header list (lowercase names), what modifiers edit."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self.items: list[tuple[str, str]] = [(k.lower(), v) for k, v in items]

    def get(self, name: str, default: str | None = None) -> str | None:
        n = name.lower()
        return next((v for k, v in self.items if k == n), default)

    def get_all(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self.items if k == n]

    def add(self, name: str, value: str) -> None:
        _check_header(name, value)
        self.items.append((name.lower(), value))

    def set(self, name: str, value: str) -> None:
        self.delete(name)
        self.add(name, value)

    def delete(self, name: str) -> None:
        n = name.lower()
        self.items = [(k, v) for k, v in self.items if k != n]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k == name.lower() for k, _ in self.items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def raw(self) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.items]


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _check_header(name: str, value: str) -> None:
    if not _TOKEN.match(name):
        raise ValueError(f"invalid header name {name!r}")
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"header {name!r}: a value cannot contain CR, LF or NUL")


HeaderModifier = Callable[[HeaderList], None]


def add_header(name: str, value: str) -> HeaderModifier:
    _check_header(name, value)
    return lambda headers: headers.add(name, value)


def set_header(name: str, value: str) -> HeaderModifier:
    _check_header(name, value)
    return lambda headers: headers.set(name, value)


def delete_header(name: str) -> HeaderModifier:
    _check_header(name, "")
    return lambda headers: headers.delete(name)


def chain_modifiers(*modifiers: HeaderModifier) -> HeaderModifier:
    def modify(headers: HeaderList) -> None:
        for m in modifiers:
            m(headers)

    return modify
