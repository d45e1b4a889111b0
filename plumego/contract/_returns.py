"""Handler return values: what a handler may return besides a Response, and the check made when it is registered.

A handler returns a Response (or any ASGI app), or a plain value that becomes one: ``dict``/``list``/``tuple``/
numbers/``bool``/dataclasses/TypedDicts -> ``JSONResponse`` (plain JSON, not the Go success envelope: return
``EnvelopeResponse`` for that); ``str`` -> ``text/plain``; ``bytes`` -> ``application/octet-stream``; ``None`` ->
204 No Content. A return annotation that cannot become a response is refused when the route is registered, so a
wrong return type is found at startup, not as a 500 in production. Imports only the standard library.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, Final

from ._response import EnvelopeResponse, ErrorResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from ._types import ASGIApp

__all__ = ["ReturnKind", "UnsupportedReturnType", "classify_return", "to_response"]

_OCTET_STREAM: Final = "application/octet-stream"


class UnsupportedReturnType(TypeError):
    """A handler's return annotation names a type plumego cannot turn into a response."""


class ReturnKind(Enum):
    """How a handler's result is turned into an ASGI app, decided once from its return annotation."""

    APP = "app"  # a Response or another ASGI app: used as is
    CONVERT = "convert"  # a plain value (or unknown until run time): converted by its type


def _no_content(value: None) -> Response:
    return Response(b"", 204)


def _text(value: str) -> Response:
    return PlainTextResponse(value)


def _octets(value: bytes | bytearray | memoryview) -> Response:
    return Response(bytes(value), media_type=_OCTET_STREAM)


def _json(value: Any) -> Response:
    return JSONResponse(value)


_CONVERTERS: Final[dict[type, Callable[[Any], ASGIApp]]] = {
    type(None): _no_content,
    str: _text,
    bytes: _octets,
    bytearray: _octets,
    memoryview: _octets,
    dict: _json,
    list: _json,
    tuple: _json,
    int: _json,
    float: _json,
    bool: _json,
}


def _converter_for(cls: type) -> Callable[[Any], ASGIApp] | None:
    """The converter for an exact type or, more slowly, for a subclass or a dataclass."""
    found = _CONVERTERS.get(cls)
    if found is not None:
        return found
    if dataclasses.is_dataclass(cls):
        return _json
    for base, converter in _CONVERTERS.items():
        if issubclass(cls, base):
            return converter
    if issubclass(cls, (collections.abc.Mapping, collections.abc.Sequence)):
        return _json
    return None


def to_response(value: Any, handler_name: str) -> ASGIApp:
    """Turn a handler's result into an ASGI app; ``TypeError`` names the handler when that is impossible."""
    if callable(value):  # a Response, or any ASGI app
        return value  # type: ignore[no-any-return]
    converter = _CONVERTERS.get(value.__class__) or _converter_for(value.__class__)
    if converter is None:
        raise TypeError(
            f"handler {handler_name!r} returned {type(value).__name__}, which is not a Response and cannot be "
            "converted (return a Response, dict, list, dataclass, str, bytes or None)"
        )
    return converter(value)


_RESPONSE_CLASSES: Final = (Response, EnvelopeResponse, ErrorResponse, StreamingResponse)
_JSON_ORIGINS: Final = frozenset(
    {
        dict,
        list,
        tuple,
        collections.abc.Mapping,
        collections.abc.MutableMapping,
        collections.abc.Sequence,
        collections.abc.MutableSequence,
    }
)
_AWAITABLE_ORIGINS: Final = frozenset({collections.abc.Awaitable, collections.abc.Coroutine})


def _kinds(annotation: Any) -> set[ReturnKind] | None:
    """The kinds an annotation allows, or None when some part of it cannot become a response."""
    if annotation is Any or annotation is object or annotation is inspect.Signature.empty:
        return {ReturnKind.CONVERT}
    if annotation is None or annotation is type(None):
        return {ReturnKind.CONVERT}
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        kinds: set[ReturnKind] = set()
        for arm in typing.get_args(annotation):
            arm_kinds = _kinds(arm)
            if arm_kinds is None:
                return None
            kinds |= arm_kinds
        return kinds
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return {ReturnKind.CONVERT} if all(_converter_for(type(v)) for v in values) else None
    if origin in _AWAITABLE_ORIGINS:
        args = typing.get_args(annotation)
        return _kinds(args[-1]) if args else {ReturnKind.CONVERT}
    if origin is collections.abc.Callable:
        return {ReturnKind.APP}
    if origin in _JSON_ORIGINS:
        return {ReturnKind.CONVERT}
    if origin is not None:
        annotation = origin
    supertype = getattr(annotation, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _kinds(supertype)
    if not isinstance(annotation, type):
        return None
    if typing.is_typeddict(annotation):
        return {ReturnKind.CONVERT}
    if issubclass(annotation, _RESPONSE_CLASSES):
        return {ReturnKind.APP}
    if _converter_for(annotation) is not None:
        return {ReturnKind.CONVERT}
    if _instances_callable(annotation):  # another ASGI app class, or a Protocol of one
        return {ReturnKind.APP}
    return None


def _instances_callable(cls: type) -> bool:
    return any("__call__" in vars(base) for base in cls.__mro__ if base is not object)


def _callable_target(handler: Any) -> Any:
    while isinstance(handler, functools.partial):
        handler = handler.func
    if inspect.isfunction(handler) or inspect.ismethod(handler):
        return handler
    call = getattr(type(handler), "__call__", None)
    return getattr(handler, "__call__", handler) if call is not None else handler


def classify_return(handler: Any, handler_name: str) -> ReturnKind:
    """Decide from ``handler``'s return annotation how its results become responses.

    Raises :class:`UnsupportedReturnType` when the annotation names something that can never become a response
    (``set``, an arbitrary class). Without an annotation, or when it cannot be resolved (a name only imported
    under ``TYPE_CHECKING``), results are converted by their type at run time.
    """
    target = _callable_target(handler)
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # noqa: BLE001 - unresolvable annotations: decide per result instead
        return ReturnKind.CONVERT
    if "return" not in hints:
        return ReturnKind.CONVERT
    annotation = hints["return"]
    kinds = _kinds(annotation)
    if kinds is None:
        shown = getattr(annotation, "__qualname__", None) or repr(annotation)
        raise UnsupportedReturnType(
            f"handler {handler_name!r} is annotated to return {shown}, which plumego cannot turn into a response; "
            "return a Response (or another ASGI app), dict, list, dataclass, str, bytes or None"
        )
    return ReturnKind.APP if kinds == {ReturnKind.APP} else ReturnKind.CONVERT
