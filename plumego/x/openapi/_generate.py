"""The OpenAPI 3.1 document of a router: operations from its routes, schemas from handler type hints, hints on top.

Owns :class:`Hint`, :func:`generate` and the canonical error envelope component. For each route (``:id`` ->
``{id}``): path parameters from the pattern; the request body from a handler's second parameter (x/validate's
``validated`` handlers: ``async def h(request, body: Model) -> Out``); the success response from the return
annotation (``None`` -> 204, ``str`` -> text, a model -> JSON); every operation answers ``default`` with the error
envelope. A hint, found by route name, then ``"METHOD /path"`` (router syntax), then on the handler
(``__openapi__``), overrides what was inferred. Imports the standard library, plumego.contract and plumego.router.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Awaitable, Coroutine, Mapping
from collections.abc import Callable as CallableABC
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any, Final

from plumego.contract import EnvelopeResponse, ErrorResponse, Response, StreamingResponse
from plumego.router import METHOD_ANY, METHOD_WEBSOCKET, RouteInfo, Router

from ._schema import REF_PREFIX, SchemaRegistry, typeddict_required

__all__ = ["ERROR_SCHEMA", "Hint", "generate"]

_UNSET: Final = object()
_PARAM: Final = re.compile(r"[:*]([A-Za-z_][A-Za-z0-9_]*)")
_METHODS: Final = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})

ERROR_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "description": "The canonical plumego error envelope (wire-compatible with Go Plumego).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "category": {"type": "string"},
                "type": {"type": "string"},
                "details": {"type": "object"},
            },
            "required": ["code", "message", "category"],
        },
        "request_id": {"type": "string"},
    },
    "required": ["error"],
}


@dataclass(frozen=True)
class Hint:
    """What to say about one operation beyond (or instead of) what the handler's types say.

    ``request``/``responses`` values are types (dataclass, TypedDict, pydantic, msgspec, ``list[X]``, ...), raw
    JSON Schema mappings, ``envelope(T)``/``paginated(T)``, or None (no body). ``query`` is a dataclass/TypedDict
    or a mapping of name -> type; ``path`` types path parameters (default string)."""

    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    operation_id: str = ""
    request: Any = _UNSET
    request_required: bool = True
    responses: Mapping[int | str, Any] = field(default_factory=dict)
    query: Any = None
    required_query: tuple[str, ...] = ()
    path: Mapping[str, Any] = field(default_factory=dict)
    deprecated: bool = False
    exclude: bool = False

    @classmethod
    def of(cls, value: Hint | Mapping[str, Any]) -> Hint:
        if isinstance(value, Hint):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown hint keys {sorted(unknown)}")
        data = dict(value)
        if "tags" in data:
            data["tags"] = tuple(data["tags"])
        if "required_query" in data:
            data["required_query"] = tuple(data["required_query"])
        return cls(**data)


_RESPONSE_TYPES: Final = (Response, EnvelopeResponse, ErrorResponse, StreamingResponse)


def _is_app_type(tp: Any) -> bool:
    """A Response class, another ASGI app class, or a callable type (``ResponseApp`` is ``Callable[...]``)."""
    if typing.get_origin(tp) is CallableABC:
        return True
    return isinstance(tp, type) and (issubclass(tp, _RESPONSE_TYPES) or "__call__" in vars(tp))


@dataclass
class _Inferred:
    body: Any = _UNSET
    returns: Any = _UNSET
    query: Any = None
    path: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    description: str = ""


def _infer(handler: Any) -> _Inferred:
    out = _Inferred()
    if handler is None:
        return out
    target = inspect.unwrap(handler) if inspect.isfunction(handler) or inspect.ismethod(handler) else handler
    doc = inspect.getdoc(target) if inspect.isfunction(target) or inspect.ismethod(target) else None
    if doc:
        first, _, rest = doc.partition("\n\n")
        out.summary = " ".join(first.split())
        out.description = rest.strip()
    try:
        signature = inspect.signature(handler)
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # noqa: BLE001 - an ASGI app object or unresolvable hints: nothing to infer
        return out
    params = [p for p in signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # x/validate's validated handlers: (request, [body], [query: Q], [path: P]).
    for param in params[1:]:
        hint = hints.get(param.name)
        if hint is None:
            continue
        if param.name == "query":
            out.query = hint
        elif param.name == "path":
            try:
                out.path = dict(typing.get_type_hints(hint, include_extras=True))
            except Exception:  # noqa: BLE001 - not a record type: leave the path parameters as strings
                out.path = {}
        elif out.body is _UNSET:
            out.body = hint
    if "return" in hints:
        returned = hints["return"]
        if typing.get_origin(returned) in (Awaitable, Coroutine):
            returned = typing.get_args(returned)[-1]
        out.returns = returned
    return out


def _content(registry: SchemaRegistry, tp: Any) -> dict[str, Any] | None:
    """The ``content`` object for a body of type ``tp`` (None: no body)."""
    if tp is None or tp is type(None):
        return None
    if tp is str:
        return {"text/plain": {"schema": {"type": "string"}}}
    if tp in (bytes, bytearray, memoryview):
        return {"application/octet-stream": {"schema": {}}}
    return {"application/json": {"schema": registry.schema(tp)}}


_ANY_SUCCESS: Final = {"2XX": {"description": "Success (the handler returns a Response: status and body are "
                                                "not known from its type)"}}


def _success(registry: SchemaRegistry, method: str, returns: Any) -> dict[str, Any]:
    if returns is _UNSET or _is_app_type(returns) or method == "HEAD":
        return dict(_ANY_SUCCESS)
    origin = typing.get_origin(returns)
    if origin is typing.Union or origin is types.UnionType:
        arms = [a for a in typing.get_args(returns) if not _is_app_type(a)]
        if len(arms) != len(typing.get_args(returns)):
            return dict(_ANY_SUCCESS)
    content = _content(registry, returns)
    if content is None:
        return {"204": {"description": "No Content"}}
    return {"200": {"description": "OK", "content": content}}


def _query_parameters(registry: SchemaRegistry, query: Any, required: tuple[str, ...]) -> list[dict[str, Any]]:
    if query is None:
        return []
    items: list[tuple[str, Any]]
    if isinstance(query, Mapping):
        items = list(query.items())
        required_names = set(required)
    else:
        hints = typing.get_type_hints(query, include_extras=True)
        items = list(hints.items())
        if is_dataclass(query):
            required_names = {f.name for f in fields(query)
                              if f.default is MISSING and f.default_factory is MISSING}
        else:
            required_names = set(typeddict_required(query, hints)) | set(required)
    out = []
    for name, tp in items:
        origin: Any = typing.get_origin(tp)
        if origin is typing.Required or origin is typing.NotRequired:
            tp = typing.get_args(tp)[0]
            origin = typing.get_origin(tp)
        if origin is typing.Union or origin is types.UnionType:  # Optional[X]: absent, never "null", in a URL
            arms = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = arms[0] if len(arms) == 1 else tp
        out.append({"name": name, "in": "query", "required": name in required_names, "schema": registry.schema(tp)})
    return out


def _operation_id(info: RouteInfo) -> str:
    if info.name:
        return re.sub(r"[^A-Za-z0-9_]", "_", info.name)
    path = re.sub(r"[^A-Za-z0-9]+", "_", info.path).strip("_") or "root"
    return f"{info.method.lower()}_{path}"


def _hint_for(info: RouteInfo, handler: Any, hints: Mapping[str, Hint | Mapping[str, Any]]) -> Hint | None:
    for key in (info.name, f"{info.method} {info.path}"):
        if key and key in hints:
            return Hint.of(hints[key])
    attached = getattr(handler, "__openapi__", None)
    if isinstance(attached, (Hint, Mapping)):
        return Hint.of(attached)
    return None


def generate(
    router: Router | Any,
    *,
    title: str = "Plumego API",
    version: str = "0.0.0",
    description: str = "",
    servers: tuple[str, ...] = (),
    hints: Mapping[str, Hint | Mapping[str, Any]] | None = None,
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document for ``router`` (a Router, or anything with a ``.router``, such as an App).

    ``exclude`` drops routes whose path starts with one of the prefixes (the spec and docs routes, say)."""
    if not isinstance(router, Router):
        router = getattr(router, "router", None)
        if not isinstance(router, Router):
            raise TypeError("generate() needs a plumego Router or an object with a .router (an App)")
    hints = hints or {}
    registry = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = {}
    for info, handler in router.endpoints():
        if info.method in (METHOD_ANY, METHOD_WEBSOCKET) or info.method not in _METHODS:
            continue
        if any(info.path == p or info.path.startswith(p.rstrip("/") + "/") for p in exclude):
            continue
        hint = _hint_for(info, handler, hints) or Hint()
        if hint.exclude:
            continue
        inferred = _infer(handler)
        operation: dict[str, Any] = {"operationId": hint.operation_id or _operation_id(info)}
        summary = hint.summary or inferred.summary
        if summary:
            operation["summary"] = summary
        if hint.description or inferred.description:
            operation["description"] = hint.description or inferred.description
        tags = list(hint.tags or info.tags)
        if tags:
            operation["tags"] = tags
        parameters = []
        path_types = {**inferred.path, **hint.path}
        for name in _PARAM.findall(info.path):
            schema = registry.schema(path_types.get(name, str))
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        query = hint.query if hint.query is not None else inferred.query
        parameters += _query_parameters(registry, query, hint.required_query)
        if parameters:
            operation["parameters"] = parameters
        body = hint.request if hint.request is not _UNSET else inferred.body
        if body is not _UNSET:
            content = _content(registry, body)
            if content is not None:
                operation["requestBody"] = {"required": hint.request_required, "content": content}
        responses: dict[str, Any] = {}
        if hint.responses:
            for status, tp in hint.responses.items():
                content = _content(registry, tp)
                entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(str(status), "Response")}
                if content is not None:
                    entry["content"] = content
                responses[str(status)] = entry
        else:
            responses = _success(registry, info.method, inferred.returns)
        responses["default"] = {"description": "Error",
                                "content": {"application/json": {"schema": {"$ref": REF_PREFIX + "Error"}}}}
        if info.method == "HEAD":
            responses["default"] = {"description": "Error (no body on HEAD)"}
        operation["responses"] = responses
        if hint.deprecated:
            operation["deprecated"] = True
        openapi_path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", info.path)
        paths.setdefault(openapi_path, {})[info.method.lower()] = operation
    registry.components.setdefault("Error", dict(ERROR_SCHEMA))
    info_obj: dict[str, Any] = {"title": title, "version": version}
    if description:
        info_obj["description"] = description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info_obj}
    if servers:
        document["servers"] = [{"url": url} for url in servers]
    document["paths"] = dict(sorted(paths.items()))
    document["components"] = {"schemas": registry.components}
    return document


_DESCRIPTIONS: Final = {"200": "OK", "201": "Created", "202": "Accepted", "204": "No Content", "400": "Bad Request",
                        "404": "Not Found", "409": "Conflict", "422": "Unprocessable Entity"}
