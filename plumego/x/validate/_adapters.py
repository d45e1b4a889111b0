"""Adapters that let bind() decode into pydantic v2 models and msgspec Structs with their own (compiled) decoders.

A model class is recognised by looking at the libraries the caller already imported (``sys.modules``): a pydantic
model cannot exist unless pydantic was imported, so plain dataclass users never import either library. Their
errors become the same 422 field list; their "not JSON" errors become the same 400. Install with
``pip install 'plumego[validate]'``. Imports the standard library and plumego.contract; pydantic/msgspec only
through ``sys.modules``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from plumego.contract import APIError, ErrorCode, ErrorType

from ._errors import FieldError, ValidationError, join_path

__all__ = ["Decoder", "model_decoder"]

Decoder = Callable[[bytes], Any]
"""Raw body -> model instance; raises ValidationError (422) or APIError INVALID_JSON (400)."""


def _bad_json(reason: str) -> APIError:
    return APIError(ErrorType.BAD_REQUEST, "request body is not valid JSON", code=ErrorCode.INVALID_JSON,
                    details={"reason": reason})


def _pydantic_decoder(model: Any, pydantic: Any) -> Decoder:
    error_type = pydantic.ValidationError

    def decode(body: bytes) -> Any:
        try:
            return model.model_validate_json(body)
        except error_type as exc:
            errors = exc.errors(include_url=False, include_input=False)
            broken = [e for e in errors if e.get("type") == "json_invalid"]
            if broken:
                raise _bad_json(str(broken[0].get("msg", "malformed JSON"))) from None
            fields = [FieldError(join_path(tuple(e.get("loc", ()))), str(e.get("msg", "invalid value")))
                      for e in errors]
            raise ValidationError(fields) from None

    return decode


def _msgspec_path(message: str) -> tuple[str, str]:
    """msgspec says ``Expected `int`, got `str` - at `$.items[0].qty```; split off the JSON path."""
    reason, sep, where = message.rpartition(" - at `")
    if not sep:
        return "", message
    path = where.rstrip("`")
    path = path[2:] if path.startswith("$.") else path[1:] if path.startswith("$") else path
    return path, reason


def _msgspec_decoder(model: Any, msgspec: Any) -> Decoder:
    decoder = msgspec.json.Decoder(model)
    validation_error = msgspec.ValidationError
    decode_error = msgspec.DecodeError

    def decode(body: bytes) -> Any:
        try:
            return decoder.decode(body)
        except validation_error as exc:  # a subclass of DecodeError: check it first
            path, reason = _msgspec_path(str(exc))
            raise ValidationError([FieldError(path, reason)]) from None
        except decode_error as exc:
            raise _bad_json(str(exc)) from None
        except RecursionError:
            raise _bad_json("request body is nested too deeply") from None

    return decode


@functools.lru_cache(maxsize=256)
def model_decoder(target: Any) -> Decoder | None:
    """The library decoder for a pydantic v2 model or msgspec Struct class; None for anything else (cached per
    class: msgspec builds its decoder once)."""
    if not isinstance(target, type):
        return None
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(target, pydantic.BaseModel):
        if not hasattr(target, "model_validate_json"):
            raise TypeError(f"{target.__qualname__} is a pydantic v1 model; bind() supports pydantic v2")
        return _pydantic_decoder(target, pydantic)
    msgspec = sys.modules.get("msgspec")
    if msgspec is not None and issubclass(target, msgspec.Struct):
        return _msgspec_decoder(target, msgspec)
    return None
