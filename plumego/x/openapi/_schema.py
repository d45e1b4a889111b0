"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) inferred from Python types, collected into ``components``.

Owns :class:`SchemaRegistry`: dataclasses and TypedDicts become named components (``$ref``), with ``required``
from defaults / ``Required``; scalars, containers, unions, literals, enums, dates and UUIDs map to their JSON
Schema forms; ``Annotated`` metadata that offers ``json_schema(kind)`` (x/validate's Rule does) adds its limits.
pydantic v2 models and msgspec Structs are described by their own libraries, found through ``sys.modules`` (no
import here). Go's x/openapi has no schema inference at all. Imports the standard library only.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

__all__ = ["REF_PREFIX", "RawSchema", "SchemaRegistry", "envelope", "paginated", "typeddict_required"]

REF_PREFIX: Final = "#/components/schemas/"

_SCALARS: Final[Mapping[Any, dict[str, Any]]] = {
    str: {"type": "string"},
    int: {"type": "integer", "format": "int64"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    None: {"type": "null"},
    bytes: {"type": "string", "contentEncoding": "base64"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.time: {"type": "string", "format": "time"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    decimal.Decimal: {"type": "string", "format": "decimal"},
    Any: {},
    object: {},
}


@dataclasses.dataclass(frozen=True, slots=True)
class RawSchema:
    """A JSON Schema given as is, where a type is expected (hints, x/rest's column-derived schemas)."""

    schema: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class _Envelope:
    data: Any
    paginated: bool


def envelope(data: Any) -> Any:
    """The success envelope around ``data`` (``{"data": ..., "meta"?, "request_id"?}``), for hints."""
    return _Envelope(data, False)


def paginated(item: Any) -> Any:
    """``{"data": [item, ...], "meta": {"pagination": {...}}}``: x/rest's list answer, for hints."""
    return _Envelope(item, True)


_PAGINATION: Final = {
    "type": "object",
    "properties": {
        "page": {"type": "integer"}, "page_size": {"type": "integer"}, "total_items": {"type": "integer"},
        "total_pages": {"type": "integer"}, "has_next": {"type": "boolean"}, "has_prev": {"type": "boolean"},
    },
    "required": ["page", "page_size", "total_items", "total_pages", "has_next", "has_prev"],
}


def typeddict_required(cls: type, hints: Mapping[str, Any]) -> list[str]:
    """Required keys of a TypedDict. Python 3.11 cannot see ``NotRequired`` in string annotations when it builds
    ``__required_keys__``; the resolved hints still say it."""
    required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
    out = []
    for key, hint in hints.items():
        origin = typing.get_origin(hint)
        if origin is typing.NotRequired:
            continue
        if origin is typing.Required or key in required_keys:
            out.append(key)
    return out


class SchemaRegistry:
    """Turns types into schemas; named types land once in :attr:`components` and are referenced."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self._names: dict[Any, str] = {}
        self._hoisted: set[str] = set()

    def _name_for(self, tp: Any) -> str:
        existing = self._names.get(tp)
        if existing is not None:
            return existing
        base = getattr(tp, "__name__", "Schema")
        name, n = base, 2
        # A name pydantic hoisted for a nested class is that class: take it over rather than numbering a twin.
        if name in self._hoisted:
            self._hoisted.discard(name)
            self._names[tp] = name
            return name
        while name in self.components:
            name, n = f"{base}{n}", n + 1
        self._names[tp] = name
        return name

    def schema(self, tp: Any) -> dict[str, Any]:
        """The schema for ``tp``: a ``$ref`` for named types, inline otherwise. Unknown types give ``{}``."""
        if isinstance(tp, RawSchema):
            return dict(tp.schema)
        if isinstance(tp, Mapping):
            return dict(tp)
        if isinstance(tp, _Envelope):
            return self._envelope(tp)
        try:
            scalar = _SCALARS.get(tp)
        except TypeError:
            scalar = None
        if scalar is not None:
            return dict(scalar)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            return self._annotated(args[0], args[1:])
        if origin is typing.Union or origin is types.UnionType:
            return {"anyOf": [self.schema(a) for a in args]}
        if origin is Literal:
            values = [v.value if isinstance(v, enum.Enum) else v for v in args]
            return {"enum": values} if len(values) > 1 else {"const": values[0]}
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.schema(args[0])}
            return {"type": "array", "prefixItems": [self.schema(a) for a in args], "minItems": len(args),
                    "maxItems": len(args)}
        if origin in (list, set, frozenset, Sequence) or tp in (list, set, frozenset, tuple):
            out: dict[str, Any] = {"type": "array", "items": self.schema(args[0]) if args else {}}
            if origin in (set, frozenset):
                out["uniqueItems"] = True
            return out
        if origin in (dict, Mapping) or tp in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.schema(args[1]) if args else {}}
        supertype = getattr(tp, "__supertype__", None)
        if supertype is not None:
            return self.schema(supertype)
        if isinstance(tp, type):
            return self._class(tp)
        return {}

    def _annotated(self, inner: Any, metadata: Sequence[Any]) -> dict[str, Any]:
        out = self.schema(inner)
        kind = out.get("type") if isinstance(out.get("type"), str) else ""
        for item in metadata:
            to_schema = getattr(item, "json_schema", None)
            if callable(to_schema):
                extra = to_schema(kind)
                if isinstance(extra, Mapping):
                    if "$ref" in out:
                        out = {"allOf": [out]}
                    out.update(extra)
        return out

    def _class(self, cls: type) -> dict[str, Any]:
        if issubclass(cls, enum.Enum):
            return {"enum": [m.value for m in cls]}
        if cls in self._names:
            return {"$ref": REF_PREFIX + self._names[cls]}
        pydantic = sys.modules.get("pydantic")
        if pydantic is not None and issubclass(cls, pydantic.BaseModel):
            model: Any = cls
            return self._library(cls, model.model_json_schema(ref_template=REF_PREFIX + "{model}"))
        msgspec = sys.modules.get("msgspec")
        if msgspec is not None and issubclass(cls, msgspec.Struct):
            (ref,), components = msgspec.json.schema_components([cls], ref_template=REF_PREFIX + "{name}")
            for name, schema in components.items():
                self.components.setdefault(name, schema)
            self._names[cls] = ref["$ref"][len(REF_PREFIX):]
            return dict(ref)
        if dataclasses.is_dataclass(cls):
            return self._record(cls, self._dataclass_required(cls))
        if typing.is_typeddict(cls):
            return self._record(cls, None)
        if issubclass(cls, str):
            return {"type": "string"}
        if issubclass(cls, int):
            return {"type": "integer"}
        return {}

    def _library(self, cls: type, schema: dict[str, Any]) -> dict[str, Any]:
        """A pydantic schema: hoist its ``$defs`` into components, register the model under its title."""
        for name, sub in schema.pop("$defs", {}).items():
            if name not in self.components:
                self.components[name] = sub
                self._hoisted.add(name)
        name = self._name_for(cls)
        self.components[name] = schema
        return {"$ref": REF_PREFIX + name}

    @staticmethod
    def _dataclass_required(cls: type) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)
                if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]

    def _record(self, cls: type, required: list[str] | None) -> dict[str, Any]:
        name = self._name_for(cls)
        self.components[name] = {}  # placeholder first: a recursive type refers to itself
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception:  # noqa: BLE001 - unresolvable annotations: describe the object loosely
            hints = {}
        if required is None:
            required = typeddict_required(cls, hints)
        properties: dict[str, Any] = {}
        for key, hint in hints.items():
            origin = typing.get_origin(hint)
            if origin is typing.Required or origin is typing.NotRequired:
                hint = typing.get_args(hint)[0]
            if dataclasses.is_dataclass(cls) and key not in {f.name for f in dataclasses.fields(cls)}:
                continue  # a ClassVar
            properties[key] = self.schema(hint)
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        doc = cls.__doc__
        if doc and not doc.startswith(f"{cls.__name__}("):  # not the dataclass-generated signature
            schema["description"] = doc.strip().split("\n\n")[0]
        self.components[name] = schema
        return {"$ref": REF_PREFIX + name}

    def _envelope(self, env: _Envelope) -> dict[str, Any]:
        data = self.schema(env.data)
        meta: dict[str, Any] = {"type": "object"}
        if env.paginated:
            data = {"type": "array", "items": data}
            meta = {"type": "object", "properties": {"pagination": _PAGINATION}, "required": ["pagination"]}
        properties = {"data": data, "meta": meta, "request_id": {"type": "string"}}
        return {"type": "object", "properties": properties, "required": ["data", "meta"] if env.paginated
                else ["data"]}
