"""bind(): read a request body (bounded), parse strict JSON, check it against a type, run an optional check.

Failure answers: malformed JSON or an empty body -> 400 ``INVALID_JSON``; a body over ``max_body`` -> 413; wrong
types, missing or unknown fields -> 422 ``VALIDATION_ERROR`` with one detail per field. There is no global
validator: what a handler accepts is its type plus the ``check`` it passes. Imports the standard library and
plumego.contract.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeVar, overload

from plumego.contract import APIError, ErrorType, JSONBodyError, Request, parse_json_body
from plumego.contract import ErrorCode

from ._adapters import model_decoder
from ._convert import Extra, compile_plan, convert_value
from ._errors import FieldError, ValidationError
from ._params import bind_path, bind_query, params_from

__all__ = ["DEFAULT_MAX_BODY", "Check", "bind", "convert", "decode", "read_body", "validated"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_BODY: Final = 1 << 20
"""1 MiB: a JSON body larger than that is refused with 413 before it is parsed."""

Check = Callable[[Any], Iterable[FieldError] | None]
"""A cross-field check run on the converted value: return (or yield) FieldErrors, or raise ValidationError."""


def _bad_json(exc: JSONBodyError) -> APIError:
    details: dict[str, Any] = {"reason": exc.reason}
    if exc.line:
        details.update(line=exc.line, column=exc.column)
    return APIError(ErrorType.BAD_REQUEST, "request body is not valid JSON", code=ErrorCode.INVALID_JSON,
                    details=details)


def _run_check(value: Any, check: Check | None) -> None:
    if check is None:
        return
    found = check(value)
    if found is not None:
        errors = list(found)
        if errors:
            raise ValidationError(errors)


@overload
def convert(value: Any, target: type[T], *, extra: Extra = "forbid", check: Check | None = None) -> T: ...
@overload
def convert(value: Any, target: Any, *, extra: Extra = "forbid", check: Check | None = None) -> Any: ...
def convert(value: Any, target: Any, *, extra: Extra = "forbid", check: Check | None = None) -> Any:
    """Check already-parsed JSON ``value`` against ``target``; raises ValidationError (422)."""
    result, errors = convert_value(value, target, extra)
    if errors:
        raise ValidationError(errors)
    _run_check(result, check)
    return result


@overload
def decode(body: bytes, target: type[T], *, extra: Extra = "forbid", check: Check | None = None) -> T: ...
@overload
def decode(body: bytes, target: Any, *, extra: Extra = "forbid", check: Check | None = None) -> Any: ...
def decode(body: bytes, target: Any, *, extra: Extra = "forbid", check: Check | None = None) -> Any:
    """Parse ``body`` as strict JSON and check it against ``target`` (a pydantic model or msgspec Struct decodes
    with its own library; ``extra`` then comes from the model's configuration)."""
    if not body.strip():
        raise APIError(ErrorType.BAD_REQUEST, "request body is empty", code=ErrorCode.INVALID_JSON)
    library = model_decoder(target)
    if library is not None:
        result = library(body)
    else:
        compile_plan(target, extra)  # an unsupported type fails as a TypeError, before the body is blamed
        try:
            parsed = parse_json_body(body)
        except JSONBodyError as exc:
            raise _bad_json(exc) from None
        result, errors = convert_value(parsed, target, extra)
        if errors:
            raise ValidationError(errors)
    _run_check(result, check)
    return result


async def read_body(request: Request, max_body: int = DEFAULT_MAX_BODY) -> bytes:
    """The request body, refused with 413 as soon as it passes ``max_body`` bytes (the rest is never buffered)."""
    # The raw ASGI headers, not request.headers: building that mapping costs more than the rest of a small read.
    for name, value in request.scope.get("headers", ()):
        if name.lower() == b"content-length":
            if value.isdigit() and (len(value) > 19 or int(value) > max_body):
                raise _too_large(max_body)
            break
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise _too_large(max_body)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> APIError:
    return APIError(ErrorType.PAYLOAD_TOO_LARGE, f"request body is larger than {limit} bytes",
                    details={"limit": limit})


@overload
async def bind(request: Request, target: type[T], *, extra: Extra = "forbid", max_body: int = DEFAULT_MAX_BODY,
               check: Check | None = None) -> T: ...
@overload
async def bind(request: Request, target: Any, *, extra: Extra = "forbid", max_body: int = DEFAULT_MAX_BODY,
               check: Check | None = None) -> Any: ...
async def bind(request: Request, target: Any, *, extra: Extra = "forbid", max_body: int = DEFAULT_MAX_BODY,
               check: Check | None = None) -> Any:
    """Decode the request's JSON body into ``target`` (dataclass, TypedDict, plain type, pydantic v2 model or
    msgspec Struct). Unknown fields are refused unless ``extra="ignore"``."""
    return decode(await read_body(request, max_body), target, extra=extra, check=check)


def validated(handler: Callable[..., Awaitable[R]]) -> Callable[[Request], Awaitable[R]]:
    """Turn ``async def h(request, body: Model, query: Q, path: P) -> Out`` into a plumego handler that binds its
    parameters first: one named ``query`` from the query string (:func:`bind_query`), one named ``path`` from the
    path parameters (:func:`bind_path`), and at most one other from the JSON body (:func:`bind`). Each is optional.

    The signature stays visible (``__wrapped__``), so x/openapi documents the body, the query parameters, the typed
    path parameters and the response without hints. Types are checked here, at registration."""
    if not inspect.iscoroutinefunction(handler):
        raise TypeError("validated() wraps an async def handler(request, ...)")
    names = list(inspect.signature(handler).parameters)[1:]
    try:
        hints = typing.get_type_hints(handler, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - a name only imported under TYPE_CHECKING, a local class
        raise TypeError(f"validated(): cannot resolve the annotations of {handler.__qualname__}: {exc}") from exc
    binders: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = []
    bodies = [n for n in names if n not in ("query", "path")]
    if len(bodies) > 1:
        raise TypeError(f"validated(): at most one body parameter, got {bodies}")
    for name in names:
        target = hints.get(name)
        if target is None:
            raise TypeError(f"validated(): annotate the parameter {name!r} with the type to bind")
        if name in ("query", "path"):
            params_from(target)  # fail at registration, not on the first request
            binders.append((name, _param_binder(name, target)))
        else:
            if model_decoder(target) is None:
                compile_plan(target, "forbid")
            binders.append((name, _body_binder(target)))

    @functools.wraps(handler)
    async def bound(request: Request) -> R:
        values = {name: await bind_one(request) for name, bind_one in binders}
        return await handler(request, **values)

    return bound


def _body_binder(target: Any) -> Callable[[Request], Awaitable[Any]]:
    async def bind_body(request: Request) -> Any:
        return await bind(request, target)

    return bind_body


def _param_binder(kind: str, target: Any) -> Callable[[Request], Awaitable[Any]]:
    async def bind_params(request: Request) -> Any:
        return bind_query(request, target) if kind == "query" else bind_path(request, target)

    return bind_params
