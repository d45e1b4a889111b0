"""Strict parsers for client input, refusing what Go refuses: decimal integers and JSON request bodies.

Python's ``int()`` takes ``" 5 "``, ``"+5"``, ``"1_0"`` and non-ASCII digits, and ``json.loads`` takes UTF-16,
a BOM, ``NaN`` and lone surrogates that no UTF-8 store can hold; each of those reached a 500 or a surprise.
These helpers turn all of them into a ``ValueError`` the caller answers 400. Imports only the standard library.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "IntegerRangeError",
    "IntegerSyntaxError",
    "JSONBodyError",
    "is_json_content_type",
    "parse_int",
    "parse_json_body",
]

INT64_MIN: Final = -(1 << 63)
INT64_MAX: Final = (1 << 63) - 1

_DECIMAL: Final = re.compile(r"-?[0-9]+\Z", re.ASCII)
_MAX_DIGITS: Final = 64  # past int64 by far; keeps a hostile 1 MB number from reaching int()
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class IntegerSyntaxError(ValueError):
    """Not an optionally negative run of ASCII digits."""


class IntegerRangeError(ValueError):
    """A well-formed integer outside the accepted range (by default a signed 64-bit integer)."""


def parse_int(text: str | bytes, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """``text`` as a decimal integer: an optional ``-`` then ASCII digits, nothing else (no sign ``+``, spaces,
    underscores or non-ASCII digits). Values outside ``minimum``..``maximum`` (default int64, what SQLite and Go
    hold) raise :class:`IntegerRangeError`."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if not _DECIMAL.match(text):
        raise IntegerSyntaxError("not a decimal integer")
    if len(text) > _MAX_DIGITS:
        raise IntegerRangeError(f"integer out of range {minimum}..{maximum}")
    value = int(text, 10)
    if not minimum <= value <= maximum:
        raise IntegerRangeError(f"integer out of range {minimum}..{maximum}")
    return value


class JSONBodyError(ValueError):
    """A request body that is not strict JSON; ``reason`` says why in client-safe words."""

    def __init__(self, reason: str, *, line: int = 0, column: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def _reject_constant(name: str) -> Any:
    raise JSONBodyError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (_INF, -_INF):
        raise JSONBodyError(f"number {text[:32]} is out of range")  # Go: "out of range of float64"
    return value


_INF: Final = float("inf")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def parse_json_body(body: bytes) -> Any:
    """Decode a request body as RFC 8259 JSON the way Go's ``encoding/json`` sees it, or raise JSONBodyError.

    UTF-8 only (a BOM, UTF-16 and UTF-32 are refused; Go reads the bytes as UTF-8 too), no ``NaN`` or
    ``Infinity`` and no number past float64 (``1e999``), no string that holds a lone surrogate (``"\\ud800"``:
    valid JSON syntax, but text no UTF-8 store, log or response encoder can represent), nesting deep enough to
    exhaust the stack refused.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONBodyError("request body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise JSONBodyError("request body starts with a byte order mark")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise JSONBodyError(exc.msg, line=exc.lineno, column=exc.colno) from None
    except JSONBodyError:
        raise
    except ValueError:  # an integer literal past Python's int_max_str_digits
        raise JSONBodyError("request body holds a number too long to parse") from None
    except RecursionError:
        raise JSONBodyError("request body is nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        try:
            lone = _has_lone_surrogate(value)
        except RecursionError:
            raise JSONBodyError("request body is nested too deeply") from None
        if lone:
            raise JSONBodyError("request body holds a lone UTF-16 surrogate")
    return value


def is_json_content_type(value: str | bytes | None) -> bool:
    """True for ``application/json`` and ``application/*+json`` (any case), with no charset or ``utf-8``."""
    if not value:
        return False
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    media, _, params = value.partition(";")
    kind, _, subtype = media.strip().lower().partition("/")
    if kind != "application" or not (subtype == "json" or (subtype.endswith("+json") and len(subtype) > 5)):
        return False
    for param in params.split(";"):
        name, _, arg = param.partition("=")
        if name.strip().lower() == "charset" and arg.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True
