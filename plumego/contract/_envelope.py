"""Byte-exact encoders for the error and success envelopes, in Go Plumego's wire shape.

Go's ``json.Encoder``: compact, HTML-escaped (``<``, ``>``, ``&``, U+2028, U+2029 as ``\\u00xx``), UTF-8,
trailing newline; map keys sorted. Uses stdlib ``json`` only. Imports only the standard library.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from ._errors import APIError

__all__ = ["InvalidResponseStatus", "encode_error_envelope", "encode_success_envelope", "go_json"]


def _go_default(value: Any) -> Any:
    """JSON for values ``json`` does not know: dataclasses as objects (field order), other mappings (read-only
    ``MappingProxyType`` claims, say) as objects, enums by value, dates and times in ISO 8601 (RFC 3339 for aware
    datetimes, as Go's ``time.Time``), sets as lists; anything else stringified."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def _make_encoder(sort_keys: bool) -> Callable[[Any], str]:
    """Build the encoder once. The C iterencoder is reused directly: ``JSONEncoder.encode`` would
    rebuild it on every call, which is half the cost of encoding a small body."""
    encoder = json.JSONEncoder(
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        sort_keys=sort_keys,
        default=_go_default,
        check_circular=False,
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    string = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or string is None:
        return encoder.encode
    iterencode = make(None, _go_default, string, None, ":", ",", sort_keys, False, False)
    join = "".join

    def encode(value: Any) -> str:
        if value.__class__ is str:
            return string(value)  # type: ignore[no-any-return]
        return join(iterencode(value, 0))

    return encode


# Encoders are immutable configuration objects, built once.
_ENCODE_PLAIN: Final = _make_encoder(False)
_ENCODE_SORTED: Final = _make_encoder(True)


class InvalidResponseStatus(ValueError):
    """A success envelope was asked for with a status outside 200-299 (Go ``ErrInvalidResponseStatus``)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"response status must be 2xx, got {status}")
        self.status = status


def _html_escape(text: str) -> str:
    # These characters can only appear inside JSON strings, so a global replace is safe.
    if "<" in text:
        text = text.replace("<", "\\u003c")
    if ">" in text:
        text = text.replace(">", "\\u003e")
    if "&" in text:
        text = text.replace("&", "\\u0026")
    if "\u2028" in text:
        text = text.replace("\u2028", "\\u2028")
    if "\u2029" in text:
        text = text.replace("\u2029", "\\u2029")
    return text


def go_json(value: Any, *, sort_keys: bool = False) -> str:
    """Encode ``value`` like Go's ``json.Marshal`` (compact, HTML-escaped; no trailing newline).

    Dataclasses, enums, dates and sets are encoded as ``_go_default`` says; other non-JSON values are
    stringified instead of failing; NaN/Infinity raise ``ValueError`` as in Go.
    """
    return _html_escape((_ENCODE_SORTED if sort_keys else _ENCODE_PLAIN)(value))


def encode_error_envelope(err: APIError, request_id: str = "") -> bytes:
    """``{"error":{"code","message","category","type"?,"details"?},"request_id"?}`` + ``\\n``.

    ``request_id`` is used when the error carries none. Details are a Go map: keys sorted.
    """
    parts = [
        '{"error":{"code":',
        go_json(err.code),
        ',"message":',
        go_json(err.message),
        ',"category":',
        go_json(err.category),
    ]
    if err.type:
        parts += [',"type":', go_json(err.type)]
    details = err.details
    if details:
        parts += [',"details":', go_json(details, sort_keys=True)]
    parts.append("}")
    rid = err.request_id or request_id
    if rid:
        parts += [',"request_id":', go_json(rid)]
    parts.append("}\n")
    return "".join(parts).encode("utf-8", "replace")


def encode_success_envelope(
    data: Any = None, meta: Mapping[str, Any] | None = None, request_id: str = ""
) -> bytes:
    """``{"data"?,"meta"?,"request_id"?}`` + ``\\n``; all three omitted when empty (``{}`` when nothing).

    ``meta`` is a Go map (keys sorted). ``data`` keeps dict insertion order (Python dicts stand for Go
    structs here); ``None`` data is omitted like Go's nil interface.
    """
    parts = ["{"]
    sep = ""
    if data is not None:
        parts += ['"data":', go_json(data)]
        sep = ","
    if meta:
        parts += [sep, '"meta":', go_json(meta, sort_keys=True)]
        sep = ","
    if request_id:
        parts += [sep, '"request_id":', go_json(request_id)]
    parts.append("}\n")
    return "".join(parts).encode("utf-8", "replace")
