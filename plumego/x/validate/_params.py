"""Binding query-string and path parameters to a dataclass or TypedDict: text parsed to each field's type.

Owns :func:`bind_query` and :func:`bind_path`. A field may be ``str``, ``int`` (decimal, 64-bit), ``float``
(finite), ``bool`` (``true``/``false``/``1``/``0``), a ``Literal`` or ``Enum`` of those, ``Optional`` of one, or
``list[X]`` (the key repeated); ``Annotated`` Rules apply after parsing. Failures are the same 422 as bodies, with
the parameter name as the path; unknown query keys are refused unless ``extra="ignore"``. Imports the standard
library and plumego.contract.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, TypeVar, overload

from plumego.contract import IntegerRangeError, Request, parse_int

from ._convert import Extra, UnsupportedType, convert_value
from ._errors import FieldError, ValidationError

__all__ = ["bind_path", "bind_query", "params_from"]

T = TypeVar("T")
_MAX_TEXT: Final = 4096


class _Bad(ValueError):
    pass


def _int(text: str) -> int:
    try:
        return parse_int(text)
    except IntegerRangeError:
        raise _Bad("integer out of range (64-bit)") from None
    except ValueError:
        raise _Bad("expected an integer") from None


def _float(text: str) -> float:
    try:
        value = float(text) if len(text) <= 64 and text.strip() == text else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _Bad("expected a number")
    return value


def _bool(text: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise _Bad("expected true or false")


_TEXT_PARSERS: Final[Mapping[Any, Callable[[str], Any]]] = {str: str, int: _int, float: _float, bool: _bool}


def _scalar_parser(tp: Any) -> Callable[[str], Any]:
    """Text -> JSON-like value for one field type; the converter checks the rest (Literal, Enum, Rules)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _scalar_parser(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        arms = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(arms) != 1:
            raise UnsupportedType(f"{tp!r}: a parameter may be Optional of one type, not a union")
        return _scalar_parser(arms[0])
    if origin is Literal:
        kinds = {type(v) for v in typing.get_args(tp)}
        if len(kinds) != 1:
            raise UnsupportedType(f"{tp!r}: a Literal parameter needs values of one type")
        return _scalar_parser(kinds.pop())
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        kinds = {type(m.value) for m in tp}
        if len(kinds) != 1:
            raise UnsupportedType(f"{tp.__qualname__}: an Enum parameter needs values of one type")
        return _scalar_parser(kinds.pop())
    parser = _TEXT_PARSERS.get(tp)
    if parser is None:
        raise UnsupportedType(f"{getattr(tp, '__name__', tp)!r} cannot be read from a query string or path")
    return parser


@dataclasses.dataclass(frozen=True, slots=True)
class _Param:
    name: str
    parse: Callable[[str], Any]
    repeated: bool


@functools.lru_cache(maxsize=256)
def params_from(target: Any) -> tuple[_Param, ...]:
    """The parameters of a dataclass or TypedDict (compiled once per type)."""
    if not (dataclasses.is_dataclass(target) or typing.is_typeddict(target)):
        raise UnsupportedType(f"parameters bind to a dataclass or TypedDict, not {target!r}")
    hints = typing.get_type_hints(target, include_extras=True)
    if dataclasses.is_dataclass(target):
        names = [f.name for f in dataclasses.fields(target) if f.init]
    else:
        names = list(hints)
    out = []
    for name in names:
        hint = hints[name]
        if typing.get_origin(hint) in (typing.Required, typing.NotRequired):
            hint = typing.get_args(hint)[0]
        bare = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
        repeated = typing.get_origin(bare) in (list, tuple, set, frozenset)
        item = typing.get_args(bare)[0] if repeated else hint
        try:
            out.append(_Param(name, _scalar_parser(item), repeated))
        except UnsupportedType as exc:
            raise UnsupportedType(f"{target.__qualname__}.{name}: {exc}") from None
    return tuple(out)


def _collect(target: Any, items: list[tuple[str, str]], extra: Extra) -> Any:
    params = params_from(target)
    known = {p.name: p for p in params}
    raw: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, text in items:
        param = known.get(key)
        if param is None:
            if extra == "forbid":
                errors.append(FieldError(key[:100], "unknown parameter"))
            continue
        if len(text) > _MAX_TEXT or "\x00" in text:
            errors.append(FieldError(key, "value too long or holds NUL"))
            continue
        try:
            value = param.parse(text)
        except _Bad as exc:
            errors.append(FieldError(key, str(exc)))
            continue
        if param.repeated:
            raw.setdefault(key, []).append(value)
        elif key in raw:
            errors.append(FieldError(key, "given more than once"))
        else:
            raw[key] = value
    if errors:
        raise ValidationError(errors)
    result, problems = convert_value(raw, target, "ignore")
    if problems:
        raise ValidationError(problems)
    return result


@overload
def bind_query(request: Request, target: type[T], *, extra: Extra = "forbid") -> T: ...
@overload
def bind_query(request: Request, target: Any, *, extra: Extra = "forbid") -> Any: ...
def bind_query(request: Request, target: Any, *, extra: Extra = "forbid") -> Any:
    """The query string as ``target`` (a dataclass or TypedDict); 422 ``VALIDATION_ERROR`` per bad parameter."""
    return _collect(target, request.query_params.multi_items(), extra)


@overload
def bind_path(request: Request, target: type[T]) -> T: ...
@overload
def bind_path(request: Request, target: Any) -> Any: ...
def bind_path(request: Request, target: Any) -> Any:
    """The route's path parameters as ``target``. A path parameter that does not parse is a 404 for most APIs;
    this answers 422 naming it, so call it where that is what you want (or catch ValidationError)."""
    return _collect(target, list(request.path_params.items()), "ignore")
